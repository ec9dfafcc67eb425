"""CRM v3 objects, search and properties, driven through the official client."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts import SimplePublicObjectInput as ContactUpdate
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.properties import PropertyCreate
from sandbox_helpers import companies_frame, contacts_frame


def test_get_all_pages_to_the_end(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(250))
    everyone = api.crm.contacts.get_all(properties=["email"])
    assert [c.id for c in everyone] == [str(101 + i) for i in range(250)]
    assert everyone[7].properties["email"] == "person7@example.com"
    assert everyone[7].properties["hs_object_id"] == "108"
    assert everyone[7].created_at is not None and everyone[7].archived is False
    # 100 + 100 + 50: three list calls, the last one without paging
    assert sb.stats("tok-a")["by_endpoint"] == {"objects.list_page": 3}
    # the other portal is separate
    assert sb.client("tok-b").crm.contacts.get_all() == []


def test_list_paging_is_omitted_on_the_last_page(sb, raw):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(3))
    status, page = raw.json("GET", "/crm/v3/objects/contacts?limit=2")
    assert status == 200 and "after" in page["paging"]["next"]
    status, last = raw.json(
        "GET", f"/crm/v3/objects/contacts?limit=2&after={page['paging']['next']['after']}"
    )
    assert status == 200 and [r["id"] for r in last["results"]] == ["103"]
    assert "paging" not in last


def test_list_accepts_repeated_and_comma_forms(sb, raw):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(2))
    sb.backend.load_records("tok-a", "companies", companies_frame(1))
    sb.backend.load_associations(
        "tok-a",
        __import__("sandbox_helpers").links([("contacts", "101", "companies", "9001", "Primary")]),
    )
    _, comma = raw.json(
        "GET", "/crm/v3/objects/contacts?properties=email,lastname&associations=companies,deals"
    )
    _, rep = raw.json(
        "GET",
        "/crm/v3/objects/contacts?properties=email&properties=lastname&associations=companies",
    )
    assert comma["results"] == rep["results"]
    first = comma["results"][0]
    assert set(first["properties"]) == {
        "email",
        "lastname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    types = [a["type"] for a in first["associations"]["companies"]["results"]]
    assert types == ["contact_to_company", "contact_to_company_unlabeled"]
    assert "associations" not in comma["results"][1]
    # unknown properties and association types are ignored, not rejected
    status, body = raw.json("GET", "/crm/v3/objects/contacts?properties=nope&associations=widgets")
    assert status == 200 and "nope" not in body["results"][0]["properties"]


def test_default_properties_and_requested_nulls(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(1).assign(firstname=[None]))
    page = api.crm.contacts.basic_api.get_page()
    assert set(page.results[0].properties) == {
        "email",
        "firstname",
        "lastname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    assert page.results[0].properties["firstname"] is None


def test_list_limit_over_the_maximum(sb, raw):
    status, body = raw.json("GET", "/crm/v3/objects/contacts?limit=101")
    assert status == 400 and body["category"] == "VALIDATION_ERROR" and body["correlationId"]
    sb.set_limits(list_over_max="clamp")
    sb.backend.load_records("tok-a", "contacts", contacts_frame(120))
    status, body = raw.json("GET", "/crm/v3/objects/contacts?limit=500")
    assert status == 200 and len(body["results"]) == 100


def test_get_by_id_and_by_unique_property(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(3))
    assert api.crm.contacts.basic_api.get_by_id("102").properties["email"] == "person1@example.com"
    by_email = api.crm.contacts.basic_api.get_by_id("PERSON2@example.com", id_property="email")
    assert by_email.id == "103"
    with pytest.raises(NotFoundException) as err:
        api.crm.contacts.basic_api.get_by_id("999")
    body = json.loads(err.value.body)
    assert body["status"] == "error" and body["category"] == "OBJECT_NOT_FOUND"
    assert err.value.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
    with pytest.raises(ApiException) as err:
        api.crm.contacts.basic_api.get_by_id("x", id_property="firstname")
    assert err.value.status == 400


def test_create_update_archive_round_trip(sb, api):
    created = api.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "new@example.com", "firstname": "Neo"}
        )
    )
    assert created.id and created.properties["email"] == "new@example.com"
    assert created.properties["hs_object_id"] == created.id
    updated = api.crm.contacts.basic_api.update(
        created.id, ContactUpdate(properties={"lastname": "Anderson"})
    )
    assert updated.properties["lastname"] == "Anderson"
    again = api.crm.contacts.basic_api.get_by_id(created.id, properties=["firstname", "lastname"])
    assert again.properties["firstname"] == "Neo" and again.updated_at >= again.created_at
    # clearing with "" removes the value
    api.crm.contacts.basic_api.update(created.id, ContactUpdate(properties={"lastname": ""}))
    assert (
        api.crm.contacts.basic_api.get_by_id(created.id, properties=["lastname"]).properties[
            "lastname"
        ]
        is None
    )
    assert api.crm.contacts.basic_api.archive(created.id) is None
    with pytest.raises(NotFoundException):
        api.crm.contacts.basic_api.get_by_id(created.id)
    gone = api.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert gone.archived is True and gone.archived_at is not None
    assert [c.id for c in api.crm.contacts.basic_api.get_page(archived=True).results] == [
        created.id
    ]
    # the email is free again once the contact is archived
    api.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "new@example.com"})
    )


def test_create_conflict_and_bad_properties(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(1))
    with pytest.raises(ApiException) as err:
        api.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "Person0@Example.com"})
        )
    body = json.loads(err.value.body)
    assert err.value.status == 409 and body["category"] == "CONFLICT"
    assert body["message"] == "Contact already exists. Existing ID: 101"
    with pytest.raises(ApiException) as err:
        api.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"shoe_size": "9"})
        )
    assert (
        err.value.status == 400 and "PROPERTY_DOESNT_EXIST" in json.loads(err.value.body)["message"]
    )


def test_batch_read_by_email_with_missing_ids_is_207(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(3))
    result = api.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            id_property="email",
            properties=["firstname"],
            properties_with_history=[],
            inputs=[
                {"id": "person0@example.com"},
                {"id": "ghost@example.com"},
                {"id": "person2@example.com"},
            ],
        )
    )
    assert type(result).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert result.status == "COMPLETE" and result.num_errors == 1
    assert sorted(r.id for r in result.results) == ["101", "103"]
    assert result.errors[0].category == "OBJECT_NOT_FOUND"
    assert result.errors[0].context == {"ids": ["ghost@example.com"]}
    full = api.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            properties=["email"], properties_with_history=[], inputs=[{"id": "102"}]
        )
    )
    assert type(full).__name__ == "BatchResponseSimplePublicObject" and full.results[0].id == "102"


def test_batch_create_update_upsert_archive(sb, api):
    created = api.crm.contacts.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                {"properties": {"email": f"b{i}@example.com"}, "associations": []} for i in range(3)
            ]
        )
    )
    assert type(created).__name__ == "BatchResponseSimplePublicObject" and len(created.results) == 3
    ids = [r.id for r in created.results]
    # a conflict fails the whole batch (nothing created)
    with pytest.raises(ApiException) as err:
        api.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    {"properties": {"email": "fresh@example.com"}},
                    {"properties": {"email": "b1@example.com"}},
                ]
            )
        )
    assert err.value.status == 409
    assert sb.backend.count_records("tok-a", "contacts") == 3
    updated = api.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids[0], "properties": {"firstname": "Ann"}},
                {"id": "424242", "properties": {"firstname": "X"}},
            ]
        )
    )
    assert updated.num_errors == 1 and updated.results[0].properties["firstname"] == "Ann"
    upserted = api.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {
                    "id": "b2@example.com",
                    "idProperty": "email",
                    "properties": {"lastname": "Known"},
                },
                {"id": "c9@example.com", "idProperty": "email", "properties": {"lastname": "New"}},
            ]
        )
    )
    assert [(r.properties["email"], r.new) for r in upserted.results] == [
        ("b2@example.com", False),
        ("c9@example.com", True),
    ]
    assert (
        api.crm.contacts.batch_api.archive(
            BatchInputSimplePublicObjectId(inputs=[{"id": ids[0]}, {"id": "1"}])
        )
        is None
    )
    assert sb.backend.count_records("tok-a", "contacts") == 3


def test_batch_size_limit(sb, raw):
    status, body = raw.json(
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": str(i)} for i in range(101)]},
    )
    assert status == 400 and "exceeds the maximum of 100" in body["message"]
    sb.set_limits(batch_read_max=1000)
    status, _ = raw.json(
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": str(i)} for i in range(101)]},
    )
    assert status == 207


def test_search_filters_sorts_and_paging(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(30))
    sb.backend.load_records(
        "tok-a",
        "deals",
        __import__("pandas").DataFrame(
            {"id": ["1", "2", "3"], "dealname": ["a", "b", "c"], "amount": ["900", "1000", "25"]}
        ),
    )
    search = api.crm.contacts.search_api.do_search
    found = search(
        PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {"propertyName": "email", "operator": "EQ", "value": "PERSON3@example.com"}
                    ]
                }
            ]
        )
    )
    assert found.total == 1 and found.results[0].id == "104"
    either = search(
        PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {
                            "propertyName": "firstname",
                            "operator": "IN",
                            "values": ["first1", "first2"],
                        }
                    ]
                },
                {"filters": [{"propertyName": "hs_object_id", "operator": "GTE", "value": "129"}]},
            ],
            sorts=["-hs_object_id"],
            properties=["firstname"],
            limit=10,
        )
    )
    assert [r.id for r in either.results] == ["130", "129", "103", "102"]
    assert set(either.results[0].properties) == {
        "firstname",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    page1 = search(PublicObjectSearchRequest(limit=20))
    assert page1.total == 30 and len(page1.results) == 20 and page1.paging.next.after == "20"
    page2 = search(PublicObjectSearchRequest(limit=20, after="20"))
    assert len(page2.results) == 10 and page2.paging is None
    deals = api.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "100"}]}
            ],
            sorts=[json.dumps({"propertyName": "amount", "direction": "DESCENDING"})],
        )
    )
    assert [d.id for d in deals.results] == ["2", "1"]  # numeric, not text, comparison
    token = search(PublicObjectSearchRequest(query="first7"))
    assert [r.id for r in token.results] == ["108"]
    none = search(
        PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "phone", "operator": "HAS_PROPERTY"}]}]
        )
    )
    assert none.total == 0 and none.results == []


def test_search_limits(sb, api):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(12))
    search = api.crm.contacts.search_api.do_search
    with pytest.raises(ApiException) as err:
        search(PublicObjectSearchRequest(limit=201))
    assert err.value.status == 400
    sb.set_limits(search_total_max=10, search_page_max=5)
    last = search(PublicObjectSearchRequest(limit=5, after="5"))
    assert last.total == 12 and last.paging.next.after == "10"
    with pytest.raises(ApiException) as err:  # the ceiling: paging past it is a 400
        search(PublicObjectSearchRequest(limit=5, after="10"))
    assert err.value.status == 400
    groups = [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6
    with pytest.raises(ApiException) as err:
        search(PublicObjectSearchRequest(filter_groups=groups))
    assert "Too many filter groups" in json.loads(err.value.body)["message"]
    with pytest.raises(ApiException) as err:
        search(
            PublicObjectSearchRequest(
                filter_groups=[
                    {"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}
                ]
            )
        )
    assert err.value.status == 400


def test_search_has_its_own_rate_limit(sb, api, fake_clock):
    search = api.crm.contacts.search_api.do_search
    sb.set_limits(search_per_second=2)
    search(PublicObjectSearchRequest())
    search(PublicObjectSearchRequest())
    with pytest.raises(ApiException) as err:
        search(PublicObjectSearchRequest())
    body = json.loads(err.value.body)
    assert (
        err.value.status == 429
        and body["policyName"] == "SECONDLY"
        and body["errorType"] == "RATE_LIMIT"
    )
    fake_clock.advance(1.0)
    assert search(PublicObjectSearchRequest()).total == 0


def test_properties_api_and_unique_app_id(sb, api):
    props = api.crm.properties.core_api
    created = props.create(
        "contacts",
        PropertyCreate(
            name="acme_id",
            label="Acme ID",
            type="string",
            field_type="text",
            group_name="contactinformation",
            has_unique_value=True,
        ),
    )
    assert (
        created.name == "acme_id"
        and created.has_unique_value is True
        and created.hubspot_defined is False
    )
    assert props.get_by_name("contacts", "acme_id").label == "Acme ID"
    names = {p.name for p in props.get_all("contacts").results}
    assert {"email", "firstname", "acme_id", "hs_object_id"} <= names
    from hubspot.crm.properties.exceptions import ApiException as PropertiesError

    with pytest.raises(PropertiesError) as err:
        props.create(
            "contacts",
            PropertyCreate(
                name="acme_id", label="x", type="string", field_type="text", group_name="g"
            ),
        )
    assert err.value.status == 409
    api.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"acme_id": "A-7"})
    )
    assert (
        api.crm.contacts.basic_api.get_by_id("A-7", id_property="acme_id").properties["email"]
        is None
    )
    props.archive("contacts", "acme_id")
    assert "acme_id" not in {p.name for p in props.get_all("contacts").results}


def test_properties_batch_endpoints(sb, api):
    from hubspot.crm.properties import (
        BatchInputPropertyCreate,
        BatchInputPropertyName,
        BatchReadInputPropertyName,
    )

    batch = api.crm.properties.batch_api
    made = batch.create(
        "companies",
        BatchInputPropertyCreate(
            inputs=[
                {
                    "name": "acme_id",
                    "label": "Acme ID",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": "g",
                },
                {
                    "name": "tier",
                    "label": "Tier",
                    "type": "enumeration",
                    "fieldType": "select",
                    "groupName": "g",
                },
            ]
        ),
    )
    assert sorted(p.name for p in made.results) == ["acme_id", "tier"]
    read = batch.read(
        "companies",
        BatchReadInputPropertyName(archived=False, inputs=[{"name": "tier"}, {"name": "nope"}]),
    )
    assert [p.name for p in read.results] == ["tier"] and read.num_errors == 1
    batch.archive("companies", BatchInputPropertyName(inputs=[{"name": "tier"}]))
    assert "tier" not in {p.name for p in api.crm.properties.core_api.get_all("companies").results}


def test_generic_objects_api_and_raw_requests(sb, api):
    sb.backend.load_records("tok-a", "companies", companies_frame(120))
    assert len(api.crm.objects.get_all("companies")) == 120
    assert len(api.crm.objects.get_all("0-2")) == 120
    # the SDK's raw escape hatch goes to base_url (through `requests`)
    resp = api.api_request(
        {"method": "GET", "path": "/crm/v3/objects/companies", "qs": {"limit": 2}}
    )
    assert resp.status_code == 200 and len(resp.json()["results"]) == 2


def test_concurrent_writers_get_distinct_ids(sb):
    import threading

    ids: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        api = sb.client("tok-a").crm.contacts.batch_api
        for k in range(5):
            made = api.create(
                BatchInputSimplePublicObjectBatchInputForCreate(
                    inputs=[
                        {"properties": {"email": f"w{n}-{k}-{i}@example.com"}} for i in range(5)
                    ]
                )
            )
            with lock:
                ids.extend(r.id for r in made.results)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == len(set(ids)) == 100
    assert sb.backend.count_records("tok-a", "contacts") == 100
