"""How the client reads a good response's body: one at a time, and nothing of it kept."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import requests

from tap_twitter_engagement.client import Client
from tap_twitter_engagement.pacing import Pacer
from tap_twitter_engagement.settings import Settings


def _response(body: dict[str, Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    return response


def test_bodies_are_parsed_and_checked_one_at_a_time_and_then_freed() -> None:
    """Parsing is CPU under the GIL, so taking turns costs no throughput; what it bounds is
    memory: the parsed JSON of one body at a time, however many requests are in flight."""
    settings = Settings.from_config({"consumer_key": "k", "consumer_secret": "s"})
    stop = threading.Event()
    client = Client(settings, Pacer(stop=stop), stop, logging.getLogger("test"))
    responses = [_response({"n": n}) for n in range(6)]
    inside, most, results = [0], [0], []
    lock = threading.Lock()

    def check(data: dict[str, Any]) -> int:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.02)  # room for another thread to come in, were it let in
        with lock:
            inside[0] -= 1
        return int(data["n"])

    def read(response: requests.Response) -> None:
        results.append(client._check(response, "here", bearer=False, check=check))

    threads = [threading.Thread(target=read, args=(r,)) for r in responses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(6))
    assert most == [1]
    assert [r.content for r in responses] == [b""] * 6  # the bodies' bytes are let go
