#!/usr/bin/env python3
"""The HTTP test server for the REST connector: one fake API implementing each
auth (bearer, basic, API key in a header or the query, OAuth2 client
credentials and refresh token), each paginator (page number, offset/limit,
cursor in the body, next URL in the body, Link header), an incremental
endpoint filtered by a datetime window, child resources, 429s with
Retry-After, 500s, a slow endpoint, malformed JSON and a 403 with a body.

    python3 tests/servers/http_api.py PORTFILE      (listens on 127.0.0.1, a free port)

Writes the port to PORTFILE once listening. GET /stats returns request
counts; POST /admin/touch?id=N&at=ISO moves a customer's updated_at.
"""
import base64
import json
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
LOCK = threading.Lock()
CUSTOMERS = [{"id": i, "name": f"customer {i}", "tags": ["a", "b"] if i % 2 else [],
              "updated_at": (BASE + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
             for i in range(1, 96)]
STATS = {"requests": 0, "tokens": 0, "by_path": {}}
FLAKY = {}


def iso(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, obj, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def page(self, q, size=10):
        p = int(q.get("page", ["1"])[0])
        size = int(q.get("per_page", [str(size)])[0])
        return CUSTOMERS[(p - 1) * size: p * size], p

    def do_POST(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        n = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(n).decode())
        with LOCK:
            STATS["requests"] += 1
        if u.path == "/oauth/token":
            g = form.get("grant_type", [""])[0]
            ok = (form.get("client_id", [""])[0] == "cid" and form.get("client_secret", [""])[0] == "csecret")
            if g == "refresh_token":
                ok = ok and form.get("refresh_token", [""])[0] == "rt1"
            if not ok:
                return self.send(401, {"error": "invalid_client"})
            with LOCK:
                STATS["tokens"] += 1
                t = STATS["tokens"]
            return self.send(200, {"access_token": f"tok-{t}", "expires_in": 3600, "token_type": "bearer"})
        if u.path == "/admin/touch":
            i = int(q["id"][0])
            with LOCK:
                CUSTOMERS[i - 1]["updated_at"] = q["at"][0]
                CUSTOMERS[i - 1]["name"] = CUSTOMERS[i - 1]["name"] + " (changed)"
            return self.send(200, {"ok": True})
        return self.send(404, {"error": "no such endpoint"})

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        path = u.path
        with LOCK:
            STATS["requests"] += 1
            STATS["by_path"][path] = STATS["by_path"].get(path, 0) + 1
        auth = self.headers.get("Authorization", "")
        if path == "/stats":
            return self.send(200, STATS)
        if path == "/bearer/customers":
            if auth != "Bearer secret-token":
                return self.send(401, {"error": "bad token"})
            items, _ = self.page(q)
            return self.send(200, {"data": {"items": items}})
        if path == "/basic/customers":
            if auth != "Basic " + base64.b64encode(b"user:pw").decode():
                return self.send(401, {"error": "bad credentials"})
            off, lim = int(q.get("offset", ["0"])[0]), int(q.get("limit", ["10"])[0])
            return self.send(200, {"results": CUSTOMERS[off:off + lim]})
        if path == "/apikey/customers":
            if self.headers.get("X-API-Key") != "k123":
                return self.send(403, {"error": "bad key"})
            start = int(q.get("cursor", ["0"])[0] or 0)
            items = CUSTOMERS[start:start + 10]
            nxt = str(start + 10) if start + 10 < len(CUSTOMERS) else None
            return self.send(200, {"items": items, "meta": {"next_cursor": nxt}})
        if path == "/apikeyq/customers":
            if q.get("api_key", [""])[0] != "k123":
                return self.send(403, {"error": "bad key"})
            p = int(q.get("p", ["1"])[0])
            items = CUSTOMERS[(p - 1) * 10: p * 10]
            host = self.headers.get("Host")
            nxt = f"http://{host}/apikeyq/customers?p={p + 1}" if p * 10 < len(CUSTOMERS) else None
            return self.send(200, {"items": items, "links": {"next": nxt}})
        if path == "/link/customers":
            items, p = self.page(q)
            h = {}
            if p * 10 < len(CUSTOMERS):
                h["Link"] = f'</link/customers?page={p + 1}>; rel="next", </link/customers?page=1>; rel="first"'
            return self.send(200, items, h)
        if path == "/oauth/customers":
            if not auth.startswith("Bearer tok-"):
                return self.send(401, {"error": "no token"})
            items, _ = self.page(q)
            return self.send(200, {"data": items})
        if path == "/flaky/customers":
            key = u.query
            with LOCK:
                FLAKY[key] = FLAKY.get(key, 0) + 1
                n = FLAKY[key]
            if n == 1:
                return self.send(429, {"error": "slow down"}, {"Retry-After": "1"})
            if n == 2:
                return self.send(503, {"error": "try again"})
            items, _ = self.page(q)
            return self.send(200, {"data": items})
        if path == "/bad/customers":
            return self.send(200, None, raw=b'{"data": [{"id": 1}, {not json')
        if path == "/forbidden/customers":
            return self.send(403, {"error": "this key may not read customers"})
        if path == "/notfound/customers":
            return self.send(404, {"error": "no such thing"})
        if path == "/slow/customers":
            time.sleep(float(q.get("sleep", ["3"])[0]))
            return self.send(200, {"data": []})
        if path == "/always500/customers":
            return self.send(500, {"error": "internal"})
        if path == "/events":
            since = iso(q["since"][0]) if "since" in q else BASE
            until = iso(q["until"][0]) if "until" in q else datetime.now(timezone.utc)
            with LOCK:
                rows = sorted((c for c in CUSTOMERS if since <= iso(c["updated_at"]) < until),
                              key=lambda c: (c["updated_at"], c["id"]))
            items, _ = self.page(q)
            p = int(q.get("page", ["1"])[0])
            return self.send(200, {"data": rows[(p - 1) * 10: p * 10]})
        if path.startswith("/customers/") and path.endswith("/orders"):
            cid = int(path.split("/")[2])
            return self.send(200, {"orders": [{"id": cid * 100 + k, "customer_id": cid,
                                               "total": cid * 1.5 + k} for k in (1, 2)]})
        return self.send(404, {"error": "no such endpoint"})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
