"""A tiny authoritative DNS server on 127.0.0.1 (UDP) that answers CNAME questions from a dict."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rrset


class FakeDns:
    def __init__(self, cnames: dict[str, str], ttl: int = 30) -> None:
        self.cnames = {k.lower().rstrip("."): v for k, v in cnames.items()}
        self.ttl = ttl
        self.asked: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            question = query.question[0]
            name = str(question.name).rstrip(".").lower()
            self.asked.append(name)
            target = self.cnames.get(name)
            if target is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            else:
                reply.answer.append(
                    dns.rrset.from_text(question.name, self.ttl, "IN", "CNAME", target + ".")
                )
            self.sock.sendto(reply.to_wire(), peer)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()
