"""MQTT 5 first; a broker that refuses it (an MQTT 3.1.1-only broker) gets MQTT 3.1.1."""

import socket
import threading
from dataclasses import replace

from tests.devices.conftest import broker_settings, wait_until


class V311OnlyProxy:
    """A TCP front for the real broker that answers an MQTT 5 CONNECT the way a 3.1.1 broker does
    (CONNACK 'unacceptable protocol version', then close) and pipes 3.1.1 connections through."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.levels: list[int] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        first = conn.recv(4096)
        # fixed header (1 byte + remaining length, < 128 here), then "\x00\x04MQTT" and the level byte
        level = first[2 + 6] if len(first) > 8 else 0
        self.levels.append(level)
        if level != 4:
            conn.sendall(bytes([0x20, 0x02, 0x00, 0x01]))
            conn.close()
            return
        up = socket.create_connection(("127.0.0.1", self.upstream_port))
        up.sendall(first)
        for a, b in ((conn, up), (up, conn)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


def test_falls_back_to_mqtt_311_and_works(mosquitto, make_sim, make_link):
    proxy = V311OnlyProxy(mosquitto.port)
    try:
        make_sim(doors=1, lockers=0, health=0)
        link = make_link(start=False, broker=replace(broker_settings(mosquitto), port=proxy.port))
        link.start()
        assert link.wait_connected(10)
        assert proxy.levels[0] == 5 and proxy.levels[-1] == 4
        assert wait_until(lambda: (i := link.registry.get("door", "door-1")) and i.availability == "online")
        assert link.door("door-1").unlock(1).result(5) == {}
    finally:
        proxy.close()
