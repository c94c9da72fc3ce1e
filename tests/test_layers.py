"""The package's layers: imports run down only, and no module imports itself in a circle."""

from tests.import_map import LAYERS, circles, import_graph, layer_of, upward_imports


def test_every_module_sits_in_a_layer():
    assert [module for module in import_graph() if layer_of(module) not in LAYERS] == []


def test_imports_point_down_or_across_only():
    assert upward_imports(import_graph()) == []


def test_no_module_imports_itself_through_others():
    assert circles(import_graph()) == []


def test_the_map_sees_an_upward_import():
    """A control: a rule importing a service would be found."""
    graph = {
        "checkin.domain.admission": {"checkin.services.checkins"},
        "checkin.services.checkins": set(),
    }
    assert upward_imports(graph) == [("checkin.domain.admission", "checkin.services.checkins")]
    assert circles({"checkin.a": {"checkin.b"}, "checkin.b": {"checkin.a"}}) == [
        ["checkin.a", "checkin.b"]
    ]
