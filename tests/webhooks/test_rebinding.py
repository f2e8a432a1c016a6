"""DNS rebinding: the address that was checked is the address connected to, on every attempt."""

import socket
import threading

import pytest
from webhooks import services as webhook_services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a global address: passes the check


class LocalListener:
    """A TCP listener on loopback that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def rebinding(monkeypatch):
    """A resolver that answers a public address first and loopback ever after, and a network
    where the public address is unreachable (so only loopback can answer)."""
    listener = LocalListener()
    answers = iter([PUBLIC])
    lookups: list[str] = []
    connects: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def create_connection(address, *args, **kwargs):
        connects.append(address[0])
        if address[0] == PUBLIC:
            raise ConnectionRefusedError("unreachable in this test")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield listener, lookups, connects
    listener.close()


def test_a_rebound_name_never_reaches_a_local_receiver(alice, rebinding, settings) -> None:
    listener, lookups, connects = rebinding
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    endpoint = WebhookEndpoint.objects.create(
        clinic=alice.clinic,
        url=f"https://rebind.example:{listener.port}/hook",
        secret="s",
        events=["plan.agreed"],
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="plan.agreed", payload={"plan": "x"}
    )
    for _ in range(3):  # the first attempt and two retries
        assert webhook_services.webhook_deliver(delivery_id=str(delivery.pk)) is False
    assert listener.connections == 0
    assert lookups[0] == PUBLIC
    # The one connection attempt went to the address that was checked; the later lookups
    # (loopback) were refused before any connection.
    assert connects == [PUBLIC]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.error == "UnsafeEndpoint"


def test_the_pinned_connection_keeps_the_host_name(monkeypatch) -> None:
    """Host header, TLS server name and certificate check use the URL's host name, whatever
    address is dialled."""
    import ssl
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        code = webhook_services._post_pinned(
            f"http://hooks.example.org:{port}/in", "127.0.0.1", b"{}", {}
        )
    finally:
        server.shutdown()
    assert code == 204
    assert hosts == [f"hooks.example.org:{port}"]

    names: list[object] = []

    class Stop(Exception):
        pass

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):
        names.append((server_hostname, self.check_hostname, self.verify_mode))
        sock.close()
        raise Stop

    listener = LocalListener()
    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    try:
        with pytest.raises(Stop):
            webhook_services._post_pinned(
                f"https://hooks.example.org:{listener.port}/in", "127.0.0.1", b"{}", {}
            )
    finally:
        listener.close()
    assert names == [("hooks.example.org", True, ssl.CERT_REQUIRED)]
