"""A locustfile's user classes against a scenario (spec/user_classes.py): each mistake one located line."""
import pytest

from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.spec.scenario import load_scenario
from chaos_hooks.spec.user_classes import check_user_classes


def scenario(tmp_path, classes="[A]", users=2):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nload: {{users: {users}, user_classes: {classes}}}\ninvariants: {{no_data_loss: {{}}}}\n")
    return load_scenario(str(path))


def one(line, weight=1, fixed_count=0):
    return {"line": line, "weight": weight, "fixed_count": fixed_count}


@pytest.mark.parametrize("classes, wanted, needle", [
    ({}, "[A]", "u.py: no user class"),
    ({"B": one(4)}, "[A]", "s.yaml:2: load.user_classes: 'A' is not a user class of the locustfile (it has: B)"),
    ({"A": one(4, weight=0)}, "[A]", "u.py:4: A: every weight and fixed_count is 0, so no user would start"),
    ({"A": one(7, weight="3")}, "[A]", "u.py:7: A.weight: expected a whole number of 0 or more, got '3'"),
    ({"A": one(7, fixed_count=-1)}, "[A]", "u.py:7: A.fixed_count: expected a whole number of 0 or more"),
])
def test_mistakes_are_located(tmp_path, classes, wanted, needle):
    with pytest.raises(ScenarioError) as err:
        check_user_classes("u.py", classes, scenario(tmp_path, wanted))
    assert needle in str(err.value), str(err.value)


def test_unchosen_classes_are_not_judged_and_too_many_fixed_users_warn(tmp_path):
    classes = {"A": one(4, weight=0, fixed_count=3), "B": one(9, weight="x")}
    assert check_user_classes("u.py", classes, scenario(tmp_path, "[A]", users=2)) == [
        "u.py: warning: the user classes' fixed_count adds up to 3, more than the scenario's 2 users: not all of "
        "them will start"]
    assert check_user_classes("u.py", {"A": one(4)}, None) == []
