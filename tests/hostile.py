"""Small hostile servers on loopback, for failures the sandbox does not stage."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode


@contextmanager
def trickling_server(interval: float = 0.5) -> Iterator[str]:
    """A server that answers every connection one byte every ``interval`` seconds, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            payload = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " * 10**5
            for byte in payload:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(interval)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def oauth_issuing(access_token: str, access_token_secret: str) -> Iterator[str]:
    """An OAuth 1.0a PIN-flow server that accepts any request and PIN and issues the given
    access token and secret (form-encoded, as X answers), whatever characters they hold."""
    answers = {
        "/oauth/request_token": {
            "oauth_token": "request-token",
            "oauth_token_secret": "request-secret",
            "oauth_callback_confirmed": "true",
        },
        "/oauth/access_token": {
            "oauth_token": access_token,
            "oauth_token_secret": access_token_secret,
            "user_id": "1500000000000000099",
            "screen_name": "hostile_brand",
        },
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = answers.get(self.path.split("?")[0])
            body = urlencode(answer).encode() if answer else b"not found"
            self.send_response(200 if answer else 404)
            self.send_header("Content-Type", "application/x-www-form-urlencoded")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
