"""Bulk loading, synthetic portals, persistence and custom object types."""

from __future__ import annotations

import pandas as pd
import pytest
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.objects import SimplePublicObjectInputForCreate
from sandbox_helpers import Raw, companies_frame, contacts_frame, links

from assoc_audit.demo.synthetic import LABELS, seed_portal, synthesize_portal
from assoc_audit.errors import SandboxError
from assoc_audit.sandbox import Sandbox, SandboxBackend


@pytest.fixture
def backend():
    b = SandboxBackend()
    b.add_portal("tok")
    yield b
    b.close()


def test_load_records_keeps_text_and_creates_properties(backend):
    frame = pd.DataFrame(
        {
            "id": [3, 1, 2],
            "email": ["c@x.com", "a@x.com", None],
            "acme_id": ["007", "8", None],
            "score": [1.0, 2.5, None],
            "createdate": ["2024-01-02T03:04:05Z", "1700000000000", None],
        }
    )
    assert backend.load_records("tok", "contacts", frame) == 3
    got = backend.records_frame("tok", "contacts", ["email", "acme_id", "score"])
    assert got["id"].tolist() == ["1", "2", "3"]
    assert got["acme_id"].tolist() == ["8", None, "007"]  # text kept verbatim
    assert got["score"].tolist() == ["2.5", None, "1"]  # numbers become text, whole ones without .0
    assert got["createdate"].tolist()[2] == "2024-01-02T03:04:05.000Z"
    assert got["createdate"].tolist()[0] == "2023-11-14T22:13:20.000Z"
    assert "acme_id" in backend.schema("tok").props(backend.object_type("tok", "contacts"))
    # duplicates may be seeded (an audit must meet them); lookups find the lowest id
    backend.load_records(
        "tok", "contacts", pd.DataFrame({"id": ["7", "5"], "email": ["dup@x.com", "DUP@x.com"]})
    )
    portal, contacts = backend.portal("tok"), backend.object_type("tok", "contacts")
    assert backend.objects.get(portal, contacts, "dup@x.com", id_property="email").id == 5
    # loading an existing id replaces the record
    backend.load_records("tok", "contacts", pd.DataFrame({"id": ["1"], "email": ["new@x.com"]}))
    assert backend.records_frame("tok", "contacts", ["email"])["email"].tolist()[0] == "new@x.com"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"id": ["1", "x"]}), "row 2, column 'id': 'x' is not a HubSpot record id"),
        (pd.DataFrame({"id": ["1", "1"]}), "row 2: duplicate id 1"),
        (pd.DataFrame({"email": ["a@x.com"]}), "missing column 'id'"),
    ],
)
def test_load_records_refuses_bad_frames(backend, frame, message):
    with pytest.raises(SandboxError) as err:
        backend.load_records("tok", "contacts", frame)
    assert message in str(err.value)
    assert backend.count_records("tok", "contacts") == 0


def test_load_associations_rules(backend):
    backend.load_records("tok", "contacts", contacts_frame(3))
    backend.load_records("tok", "companies", companies_frame(3))
    added = backend.load_associations(
        "tok",
        links(
            [
                ("contacts", "101", "companies", "9001", "Primary"),
                ("contacts", "101", "companies", "9001", "Billing contact"),
                ("companies", "9002", "contacts", "102", None),
            ]
        ),
    )
    assert added == 8  # (unlabeled + primary + label) x 2 directions, + 1 pair x 2 directions
    frame = backend.associations_frame("tok", "contacts", "companies")
    assert sorted(
        zip(frame["from_id"], frame["to_id"], frame["label"].fillna("-"), strict=True)
    ) == [
        ("101", "9001", "-"),
        ("101", "9001", "Billing contact"),
        ("101", "9001", "Primary"),
        ("102", "9002", "-"),
    ]
    # the label was created on first use, in that direction, with an inverse
    assert backend.label_type_id("tok", "contacts", "companies", "Billing contact") > 1000
    # a new primary moves the old one
    backend.load_associations("tok", links([("contacts", "101", "companies", "9003", "Primary")]))
    primaries = backend.associations_frame("tok", "contacts", "companies").query(
        "label == 'Primary'"
    )
    assert primaries["to_id"].tolist() == ["9003"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("deals", "1", "contacts", "101", "Primary")], "has no HubSpot-defined primary type"),
        ([("contacts", "101", "companies", "4242", None)], "company 4242 does not exist"),
        (
            [
                ("contacts", "101", "companies", "9001", "Primary"),
                ("contacts", "101", "companies", "9002", "Primary"),
            ],
            "more than one primary",
        ),
        ([("contacts", "101", "widgets", "1", None)], "unknown object type 'widgets'"),
        ([("contacts", "101", "contacts", "101", None)], "cannot be linked to itself"),
    ],
)
def test_load_associations_refuses_bad_rows(backend, rows, message):
    backend.load_records("tok", "contacts", contacts_frame(1))
    backend.load_records("tok", "companies", companies_frame(2))
    backend.load_records("tok", "deals", pd.DataFrame({"id": ["1"], "dealname": ["d"]}))
    with pytest.raises(SandboxError) as err:
        backend.load_associations("tok", links(rows))
    assert message in str(err.value)
    assert backend.associations_frame("tok", "contacts", "companies").empty


def test_synthetic_portal_is_deterministic_and_realistic():
    a = synthesize_portal(contacts=2000, seed=3)
    b = synthesize_portal(contacts=2000, seed=3)
    c = synthesize_portal(contacts=2000, seed=4)
    for name in ("contacts", "companies", "deals", "tickets", "associations"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.contacts.equals(c.contacts)
    assert a.to_dict() == {
        "seed": 3,
        "companies": 250,
        "contacts": 2000,
        "deals": 500,
        "tickets": 200,
        "associations": len(a.associations),
    }
    assert list(a.contacts.columns) == ["id", "email", "firstname", "lastname"]
    assert list(a.companies.columns) == ["id", "name", "domain"]
    assert list(a.deals.columns) == ["id", "dealname", "amount"]
    assert list(a.tickets.columns) == ["id", "subject"]
    assert not a.contacts["email"].str.lower().duplicated().any()
    assert a.companies["domain"].isna().any() and a.companies["domain"].str.startswith("www.").any()
    links_ = a.associations
    assert set(links_["label"].dropna()) == {
        "Primary",
        "Billing contact",
        "Decision maker",
        "Reseller",
    }
    primaries = links_[links_["label"] == "Primary"]
    assert not primaries.duplicated(["from_object", "from_id"]).any()  # one primary per record
    pairs = set(zip(links_["from_object"], links_["to_object"], strict=True))
    assert pairs == {
        ("contacts", "companies"),
        ("deals", "contacts"),
        ("deals", "companies"),
        ("tickets", "contacts"),
        ("tickets", "companies"),
    }
    # every labelled link also has its unlabeled row
    key = ["from_object", "from_id", "to_object", "to_id"]
    labelled = links_[links_["label"].notna()][key].drop_duplicates()
    plain = links_[links_["label"].isna()][key]
    assert len(labelled.merge(plain, on=key)) == len(labelled)


def test_seed_portal_loads_everything(sb):
    portal = synthesize_portal(contacts=300, seed=1)
    counts = seed_portal(sb.backend, "tok-a", portal)
    assert counts["contacts"] == 300 and counts["companies"] == len(portal.companies)
    labels = {lab for _, _, lab, _ in LABELS}
    assert labels <= {t.label for t in sb.backend.schema("tok-a").assoc_types.values()}
    api = sb.client("tok-a")
    assert len(api.crm.contacts.get_all()) == 300
    stored = sb.backend.associations_frame("tok-a", "contacts", "companies")
    expected = portal.associations.query("from_object == 'contacts' and to_object == 'companies'")
    assert len(stored) == len(expected.drop_duplicates())


def test_persistence_across_runs(tmp_path):
    data = tmp_path / "portal.sqlite"
    with Sandbox(tokens=("tok-a",), data=data, rate_limit=0) as first:
        first.backend.load_records("tok-a", "contacts", contacts_frame(5))
        label = first.backend.create_label("tok-a", "contacts", "companies", "Billing contact")
    with Sandbox(tokens=("tok-a", "tok-new"), data=data, rate_limit=0) as second:
        assert len(second.client("tok-a").crm.contacts.get_all()) == 5
        assert (
            second.backend.label_type_id("tok-a", "contacts", "companies", "Billing contact")
            == label
        )
        assert second.client("tok-new").crm.contacts.get_all() == []
    assert b"tok-a" not in data.read_bytes()  # tokens are stored as hashes only


def test_custom_object_type(sb, raw):
    status, made = raw.json(
        "POST",
        "/_sandbox/object-types",
        {"name": "vehicles", "properties": ["vin", {"name": "plate", "hasUniqueValue": True}]},
    )
    assert status == 201 and made["objectTypeId"].startswith("2-") and made["singular"] == "vehicle"
    api = sb.client("tok-a")
    sb.backend.load_records("tok-a", "contacts", contacts_frame(1))
    car = api.crm.objects.basic_api.create(
        "vehicles", SimplePublicObjectInputForCreate(properties={"vin": "V1", "plate": "AB-1"})
    )
    assert car.properties["vin"] == "V1" and "hs_createdate" in car.properties
    by_id = api.crm.objects.basic_api.get_by_id(made["objectTypeId"], car.id, properties=["vin"])
    assert by_id.properties["vin"] == "V1"
    assert (
        api.crm.objects.basic_api.get_by_id(
            made["fullyQualifiedName"], "AB-1", id_property="plate"
        ).id
        == car.id
    )
    types = api.crm.associations.v4.schema.definitions_api.get_all("vehicles", "contacts").results
    assert len(types) == 1 and types[0].label is None
    spec = AssociationSpec(
        association_category=types[0].category, association_type_id=types[0].type_id
    )
    api.crm.associations.v4.basic_api.create("vehicles", car.id, "contacts", "101", [spec])
    back = api.crm.associations.v4.basic_api.get_page("contacts", "101", "vehicle")
    assert [r.to_object_id for r in back.results] == [car.id]
    status, _ = raw.json("POST", "/_sandbox/object-types", {"name": "vehicles"})
    assert status == 409
    assert Raw(sb.url, "tok-b")("GET", "/crm/v3/objects/vehicles").status == 400  # per portal
