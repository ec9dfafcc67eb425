"""Associations v4 (records, batch, labels, limits), driven through the official client."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4.exceptions import ApiException
from hubspot.crm.associations.v4.schema import (
    BatchInputPublicAssociationDefinitionConfigurationCreateRequest,
    BatchInputPublicAssociationDefinitionConfigurationUpdateRequest,
    BatchInputPublicAssociationSpec,
    PublicAssociationDefinitionCreateRequest,
    PublicAssociationDefinitionUpdateRequest,
)
from sandbox_helpers import companies_frame, contacts_frame, links

UNLABELED = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)
PRIMARY = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)


@pytest.fixture
def people(sb):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(5))
    sb.backend.load_records("tok-a", "companies", companies_frame(8))
    return sb


def _types(api, from_type, from_id, to_type):
    page = api.crm.associations.v4.basic_api.get_page(from_type, from_id, to_type)
    return {
        r.to_object_id: sorted((t.category, t.type_id, t.label) for t in r.association_types)
        for r in page.results
    }


def test_labelled_create_read_archive_round_trip(people, api):
    v4 = api.crm.associations.v4
    defs = v4.schema.definitions_api
    created = defs.create(
        "contacts",
        "companies",
        PublicAssociationDefinitionCreateRequest(
            label="Billing contact", name="billing", inverse_label="Billed company"
        ),
    )
    forward, backward = created.results
    assert forward.category == "USER_DEFINED" and forward.label == "Billing contact"
    assert backward.label == "Billed company"
    labels = {t.label for t in defs.get_all("contacts", "companies").results}
    assert labels == {None, "Primary", "Billing contact"}
    assert "Billed company" in {t.label for t in defs.get_all("companies", "contacts").results}

    billing = AssociationSpec(
        association_category="USER_DEFINED", association_type_id=forward.type_id
    )
    pair = v4.basic_api.create("contacts", "101", "companies", "9001", [billing])
    assert pair.labels == ["Billing contact"] and str(pair.to_object_id) == "9001"
    # a labelled association implies the unlabeled one, visible from both ends
    assert _types(api, "contacts", "101", "companies") == {
        "9001": [
            ("HUBSPOT_DEFINED", 279, None),
            ("USER_DEFINED", forward.type_id, "Billing contact"),
        ]
    }
    assert _types(api, "companies", "9001", "contacts") == {
        "101": [
            ("HUBSPOT_DEFINED", 280, None),
            ("USER_DEFINED", backward.type_id, "Billed company"),
        ]
    }
    # removing the label keeps the unlabeled link
    v4.batch_api.archive_labels(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": "101"}, "to": {"id": "9001"}, "types": [billing]}]
        ),
    )
    assert _types(api, "contacts", "101", "companies") == {"9001": [("HUBSPOT_DEFINED", 279, None)]}
    # removing the unlabeled link removes every label
    v4.basic_api.create("contacts", "101", "companies", "9001", [billing, PRIMARY])
    v4.batch_api.archive_labels(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": "101"}, "to": {"id": "9001"}, "types": [UNLABELED]}]
        ),
    )
    assert _types(api, "contacts", "101", "companies") == {}
    assert _types(api, "companies", "9001", "contacts") == {}


def test_one_primary_per_record_moves(people, api):
    v4 = api.crm.associations.v4.basic_api
    v4.create("contacts", "101", "companies", "9001", [PRIMARY])
    v4.create("contacts", "101", "companies", "9002", [PRIMARY])
    assert _types(api, "contacts", "101", "companies") == {
        "9001": [("HUBSPOT_DEFINED", 279, None)],
        "9002": [("HUBSPOT_DEFINED", 1, "Primary"), ("HUBSPOT_DEFINED", 279, None)],
    }
    # from the company side, type 2 sets the contact's primary too
    v4.create(
        "companies",
        "9003",
        "contacts",
        "101",
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=2)],
    )
    primaries = [
        k
        for k, v in _types(api, "contacts", "101", "companies").items()
        if ("HUBSPOT_DEFINED", 1, "Primary") in v
    ]
    assert primaries == ["9003"]
    # a company may be the primary of many contacts
    v4.create("contacts", "102", "companies", "9003", [PRIMARY])
    assert len(_types(api, "companies", "9003", "contacts")) == 2


def test_per_record_paging(people, api):
    people.backend.load_associations(
        "tok-a", links([("contacts", "101", "companies", str(9001 + i), None) for i in range(7)])
    )
    basic = api.crm.associations.v4.basic_api
    seen, after, calls = [], None, 0
    while True:
        page = basic.get_page("contacts", "101", "companies", limit=3, after=after)
        calls += 1
        seen += [r.to_object_id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == [str(9001 + i) for i in range(7)] and calls == 3
    assert basic.get_page("contacts", "999", "companies").results == []


def test_batch_read_pages_per_id_and_reports_ids_without_links(people, api):
    people.set_limits(assoc_batch_read_page=2)
    people.backend.load_associations(
        "tok-a",
        links(
            [("contacts", "101", "companies", str(9001 + i), None) for i in range(5)]
            + [("contacts", "102", "companies", "9001", "Primary")]
        ),
    )
    batch = api.crm.associations.v4.batch_api
    result = batch.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[{"id": "101"}, {"id": "102"}, {"id": "103"}]
        ),
    )
    assert type(result).__name__ == "BatchResponsePublicAssociationMultiWithLabelWithErrors"
    by_id = {r._from.id: r for r in result.results}
    assert [t.to_object_id for t in by_id["101"].to] == ["9001", "9002"]
    assert by_id["102"].paging is None
    assert [(t.type_id, t.label) for t in by_id["102"].to[0].association_types] == [
        (1, "Primary"),
        (279, None),
    ]
    assert result.num_errors == 1
    err = result.errors[0]
    assert (
        err.category == "OBJECT_NOT_FOUND"
        and err.sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"
    )
    assert (
        err.context["fromObjectId"] == ["103"]
        and err.message == "No company is associated with contact 103."
    )
    got, after = [], by_id["101"].paging.next.after
    while after:
        more = batch.get_page(
            "contacts",
            "companies",
            BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "101", "after": after}]),
        )
        got += [t.to_object_id for t in more.results[0].to]
        after = more.results[0].paging.next.after if more.results[0].paging else None
    assert got == ["9003", "9004", "9005"]
    full = batch.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "102"}]),
    )
    assert type(full).__name__ == "BatchResponsePublicAssociationMultiWithLabel"


def test_batch_create_default_and_archive(people, api):
    batch = api.crm.associations.v4.batch_api
    created = batch.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                {"from": {"id": "101"}, "to": {"id": "9001"}, "types": [PRIMARY]},
                {"from": {"id": "102"}, "to": {"id": "424242"}, "types": [UNLABELED]},
            ]
        ),
    )
    assert type(created).__name__ == "BatchResponseLabelsBetweenObjectPairWithErrors"
    assert created.num_errors == 1 and created.errors[0].category == "OBJECT_NOT_FOUND"
    assert (
        created.results[0].labels == ["Primary"] and created.results[0].from_object_type_id == "0-1"
    )
    ok = batch.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": "103"}, "to": {"id": "9001"}, "types": [UNLABELED]}]
        ),
    )
    assert (
        type(ok).__name__ == "BatchResponseLabelsBetweenObjectPair" and ok.results[0].labels == []
    )
    default = batch.create_default(
        "contacts",
        "companies",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[{"from": {"id": "104"}, "to": {"id": "9002"}}]
        ),
    )
    assert type(default).__name__ == "BatchResponsePublicDefaultAssociation"
    specs = sorted(r.association_spec.association_type_id for r in default.results)
    assert specs == [279, 280]
    single = api.crm.associations.v4.basic_api.create_default(
        "contacts", "105", "companies", "9002"
    )
    assert single.status == "COMPLETE"
    batch.archive(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiArchive(
            inputs=[{"from": {"id": "101"}, "to": [{"id": "9001"}, {"id": "9005"}]}]
        ),
    )
    assert _types(api, "contacts", "101", "companies") == {}
    api.crm.associations.v4.basic_api.archive("contacts", "104", "companies", "9002")
    assert _types(api, "companies", "9002", "contacts") == {"105": [("HUBSPOT_DEFINED", 280, None)]}


def test_invalid_type_and_empty_body_are_400(people, api, raw):
    with pytest.raises(ApiException) as err:
        api.crm.associations.v4.basic_api.create(
            "contacts",
            "101",
            "companies",
            "9001",
            [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=280)],
        )
    assert err.value.status == 400
    status, body = raw.json("PUT", "/crm/v4/objects/contacts/101/associations/companies/9001")
    assert status == 400 and "request body was expected" in body["message"]
    status, body = raw.json("GET", "/crm/v4/objects/widgets/1/associations/companies")
    assert status == 400 and body["message"] == "Unable to infer object type from: widgets"
    # object type aliases: singular, plural and ids
    assert raw.json("GET", "/crm/v4/objects/contact/101/associations/0-2")[0] == 200


def test_limit_configuration_refuses_new_links_and_keeps_existing(people, api):
    people.backend.load_associations(
        "tok-a", links([("contacts", "101", "companies", str(9001 + i), None) for i in range(3)])
    )
    configs = api.crm.associations.v4.schema.definition_configurations_api
    made = configs.batch_create(
        "contacts",
        "companies",
        BatchInputPublicAssociationDefinitionConfigurationCreateRequest(
            inputs=[{"category": "HUBSPOT_DEFINED", "typeId": 279, "maxToObjectIds": 2}]
        ),
    )
    assert made.results[0].user_enforced_max_to_object_ids == 2
    assert [
        c.type_id for c in configs.get_all_between_two_object_types("contacts", "companies").results
    ] == [279]
    batch = api.crm.associations.v4.batch_api
    refused = batch.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                {"from": {"id": "101"}, "to": {"id": "9004"}, "types": [UNLABELED]},
                {"from": {"id": "102"}, "to": {"id": "9004"}, "types": [UNLABELED]},
                {"from": {"id": "101"}, "to": {"id": "9001"}, "types": [PRIMARY]},
            ]
        ),
    )
    assert refused.num_errors == 1
    assert refused.errors[0].sub_category == "crm.associations.ASSOCIATION_LIMIT_EXCEEDED"
    assert refused.errors[0].context["fromObjectId"] == ["101"]
    # the three existing links stay (limits apply to new links only); re-asserting one is fine
    assert sorted(_types(api, "contacts", "101", "companies")) == ["9001", "9002", "9003"]
    with pytest.raises(ApiException) as err:
        api.crm.associations.v4.basic_api.create(
            "contacts", "101", "companies", "9005", [UNLABELED]
        )
    assert err.value.status == 400
    # a label limit above the object limit is refused; raising the object limit admits the link
    billing = people.backend.create_label("tok-a", "contacts", "companies", "Billing contact")
    bad = configs.batch_create(
        "contacts",
        "companies",
        BatchInputPublicAssociationDefinitionConfigurationCreateRequest(
            inputs=[{"category": "USER_DEFINED", "typeId": billing, "maxToObjectIds": 5}]
        ),
    )
    assert bad.num_errors == 1 and "between 1 and 2" in bad.errors[0].message
    configs.batch_update(
        "contacts",
        "companies",
        BatchInputPublicAssociationDefinitionConfigurationUpdateRequest(
            inputs=[{"category": "HUBSPOT_DEFINED", "typeId": 279, "maxToObjectIds": 4}]
        ),
    )
    api.crm.associations.v4.basic_api.create("contacts", "101", "companies", "9005", [UNLABELED])
    configs.batch_remove(
        "contacts",
        "companies",
        BatchInputPublicAssociationSpec(inputs=[{"category": "HUBSPOT_DEFINED", "typeId": 279}]),
    )
    assert configs.get_all().results == []


def test_label_definitions_per_portal(sb, api):
    a = api.crm.associations.v4.schema.definitions_api
    b = sb.client("tok-b").crm.associations.v4.schema.definitions_api
    ta = a.create(
        "deals",
        "companies",
        PublicAssociationDefinitionCreateRequest(label="Reseller", name="reseller"),
    ).results[0]
    tb = b.create(
        "deals",
        "companies",
        PublicAssociationDefinitionCreateRequest(label="Reseller", name="reseller"),
    ).results[0]
    assert ta.type_id != tb.type_id  # USER_DEFINED ids are per portal
    with pytest.raises(Exception) as err:  # the same label twice on a pair
        a.create(
            "deals",
            "companies",
            PublicAssociationDefinitionCreateRequest(label="Reseller", name="reseller"),
        )
    assert err.value.status == 409
    a.update(
        "deals",
        "companies",
        PublicAssociationDefinitionUpdateRequest(association_type_id=ta.type_id, label="Partner"),
    )
    assert "Partner" in {t.label for t in a.get_all("deals", "companies").results}
    a.remove("deals", "companies", ta.type_id)
    assert {t.label for t in a.get_all("deals", "companies").results} == {None, "Primary"}


def test_pair_delete_removes_every_label(people, api):
    people.backend.load_associations(
        "tok-a",
        links(
            [
                ("contacts", "101", "companies", "9001", "Primary"),
                ("contacts", "101", "companies", "9001", "Billing contact"),
            ]
        ),
    )
    assert len(_types(api, "contacts", "101", "companies")["9001"]) == 3
    api.crm.associations.v4.basic_api.archive("companies", "9001", "contacts", "101")
    assert _types(api, "contacts", "101", "companies") == {}


def test_archiving_a_record_removes_its_links(people, api, raw):
    people.backend.load_associations(
        "tok-a", links([("contacts", "101", "companies", "9001", "Primary")])
    )
    api.crm.companies.basic_api.archive("9001")
    assert _types(api, "contacts", "101", "companies") == {}
    status, body = raw.json(
        "PUT", "/crm/v4/objects/contacts/101/associations/default/companies/9001"
    )
    assert status == 404 and json.dumps(body).count("9001") >= 1
