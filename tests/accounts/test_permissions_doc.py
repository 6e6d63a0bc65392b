from koastops.accounts import policies
from tests.accounts.permissions_doc import capability_table, roles_allowed


def test_docs_table_and_policy_table_list_the_same_capabilities():
    assert set(capability_table()) == set(policies.CAPABILITIES)


def test_docs_table_and_policy_table_agree_role_by_role():
    for capability, roles in policies.CAPABILITIES.items():
        assert roles_allowed(capability) == roles, capability


def test_admin_holds_every_capability_in_the_docs():
    assert all(row["admin"] for row in capability_table().values())
