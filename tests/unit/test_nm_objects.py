"""NetworkManager's objects in memory: loaded once, kept current from signals, in bus order."""

from __future__ import annotations

from dbus_fast import Message, MessageType, Variant

from nmstated.backends.networkmanager.objects import (
    ACTIVE,
    CONNECTION,
    DEVICE,
    OBJECT_MANAGER,
    PROPERTIES,
    VETH,
    ObjectCache,
)

NM = ":1.7"
DEV = "/org/freedesktop/NetworkManager/Devices/3"
PROFILE = "/org/freedesktop/NetworkManager/Settings/1"


def device_props(name: str = "eth1", state: int = 30) -> dict[str, Variant]:
    return {
        "Interface": Variant("s", name),
        "State": Variant("u", state),
        "Managed": Variant("b", True),
        "DeviceType": Variant("u", 1),
        "ActiveConnection": Variant("o", "/"),
        "Real": Variant("b", True),
        "Udi": Variant("s", "/sys/devices/virtual/net/eth1"),  # not kept
    }


def managed_objects() -> dict[str, dict[str, dict[str, Variant]]]:
    return {
        DEV: {DEVICE: device_props(), f"{DEVICE}.Statistics": {"RxBytes": Variant("t", 1)}},
        PROFILE: {CONNECTION: {"Unsaved": Variant("b", False)}},
        "/org/freedesktop/NetworkManager/IP4Config/1": {"x.IP4Config": {}},
    }


def reply(serial: int, body: object, sender: str = NM) -> Message:
    return Message(
        message_type=MessageType.METHOD_RETURN,
        reply_serial=serial,
        sender=sender,
        signature="a{oa{sa{sv}}}",
        body=[body],
    )


def signal(path: str, interface: str, member: str, signature: str, body: list[object]) -> Message:
    return Message(
        message_type=MessageType.SIGNAL,
        sender=NM,
        path=path,
        interface=interface,
        member=member,
        signature=signature,
        body=body,
    )


def changed(path: str, interface: str, **props: Variant) -> Message:
    return signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [interface, props, []])


def loaded() -> ObjectCache:
    cache = ObjectCache()
    cache.loading(5)
    cache.on_message(reply(5, managed_objects()))
    return cache


def test_load_keeps_only_what_is_read() -> None:
    cache = loaded()
    assert cache.loaded
    assert cache.paths(DEVICE) == [DEV]
    props = cache.props(DEV, DEVICE)
    assert props is not None and props["Interface"] == "eth1" and "Udi" not in props
    assert cache.props(DEV, f"{DEVICE}.Statistics") is None
    assert cache.paths(CONNECTION) == [PROFILE]


def test_signals_before_the_load_are_not_applied_and_only_our_reply_loads() -> None:
    cache = ObjectCache()
    cache.on_message(changed(DEV, DEVICE, State=Variant("u", 100)))
    cache.loading(9)
    cache.on_message(reply(8, managed_objects()))  # someone else's reply
    assert not cache.loaded
    cache.on_message(reply(9, managed_objects()))
    props = cache.props(DEV, DEVICE)
    assert cache.loaded and props is not None and props["State"] == 30


def test_a_signal_after_the_reply_wins_over_it() -> None:
    # Both arrive in one read: the reply is taken at its place, the signal after it.
    cache = ObjectCache()
    cache.loading(1)
    cache.on_message(reply(1, managed_objects()))
    cache.on_message(changed(DEV, DEVICE, State=Variant("u", 100)))
    props = cache.props(DEV, DEVICE)
    assert props is not None and props["State"] == 100


def test_interfaces_added_and_removed() -> None:
    cache = loaded()
    veth = "/org/freedesktop/NetworkManager/Devices/9"
    cache.on_message(
        signal(
            "/org/freedesktop",
            OBJECT_MANAGER,
            "InterfacesAdded",
            "oa{sa{sv}}",
            [veth, {DEVICE: device_props("v0"), VETH: {"Peer": Variant("o", DEV)}}],
        )
    )
    assert cache.paths(DEVICE) == [DEV, veth]
    assert cache.props(veth, VETH) == {"Peer": DEV}
    cache.on_message(
        signal("/org/freedesktop", OBJECT_MANAGER, "InterfacesRemoved", "oas", [veth, [DEVICE]])
    )
    assert cache.paths(DEVICE) == [DEV]
    assert cache.props(veth, VETH) == {"Peer": DEV}  # that interface was not removed
    cache.on_message(
        signal("/org/freedesktop", OBJECT_MANAGER, "InterfacesRemoved", "oas", [veth, [VETH]])
    )
    assert cache.props(veth, VETH) is None


def test_signals_from_another_sender_are_ignored() -> None:
    cache = loaded()
    impostor = changed(DEV, DEVICE, State=Variant("u", 100))
    impostor.sender = ":1.99"
    cache.on_message(impostor)
    props = cache.props(DEV, DEVICE)
    assert props is not None and props["State"] == 30


def test_a_new_owner_empties_the_copy() -> None:
    cache = loaded()
    cache.on_message(
        Message(
            message_type=MessageType.SIGNAL,
            sender="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            signature="sss",
            body=["org.freedesktop.NetworkManager", NM, ":1.8"],
        )
    )
    assert not cache.loaded and cache.paths(DEVICE) == []


def test_active_connection_properties_follow_signals() -> None:
    cache = loaded()
    active = "/org/freedesktop/NetworkManager/ActiveConnection/2"
    cache.on_message(
        signal(
            "/org/freedesktop",
            OBJECT_MANAGER,
            "InterfacesAdded",
            "oa{sa{sv}}",
            [
                active,
                {
                    ACTIVE: {
                        "Connection": Variant("o", PROFILE),
                        "State": Variant("u", 1),
                        "StateFlags": Variant("u", 0),
                        "Id": Variant("s", "eth1"),
                    }
                },
            ],
        )
    )
    cache.on_message(changed(active, ACTIVE, State=Variant("u", 2), Id=Variant("s", "x")))
    assert cache.props(active, ACTIVE) == {"Connection": PROFILE, "State": 2, "StateFlags": 0}


def test_settings_are_kept_until_the_profile_changes() -> None:
    cache = loaded()
    version = cache.settings_version(PROFILE)
    settings = {"connection": {"id": Variant("s", "eth1")}}
    cache.keep_settings(PROFILE, settings, version)
    assert cache.settings(PROFILE) == settings
    cache.on_message(signal(PROFILE, CONNECTION, "Updated", "", []))
    assert cache.settings(PROFILE) is None


def test_settings_fetched_before_an_update_are_not_kept() -> None:
    # GetSettings' reply may be read before or after the Updated signal that
    # follows it on the bus; either way the old settings must not stay.
    cache = loaded()
    version = cache.settings_version(PROFILE)
    cache.on_message(signal(PROFILE, CONNECTION, "Updated", "", []))
    cache.keep_settings(PROFILE, {"connection": {}}, version)
    assert cache.settings(PROFILE) is None


def test_settings_of_a_removed_profile_are_not_kept() -> None:
    cache = loaded()
    version = cache.settings_version(PROFILE)
    cache.on_message(
        signal(
            "/org/freedesktop", OBJECT_MANAGER, "InterfacesRemoved", "oas", [PROFILE, [CONNECTION]]
        )
    )
    cache.keep_settings(PROFILE, {"connection": {}}, version)
    assert cache.settings(PROFILE) is None and cache.paths(CONNECTION) == []


def test_an_invalidated_property_forces_a_reload() -> None:
    cache = loaded()
    cache.on_message(
        signal(DEV, PROPERTIES, "PropertiesChanged", "sa{sv}as", [DEVICE, {}, ["State"]])
    )
    assert not cache.loaded
