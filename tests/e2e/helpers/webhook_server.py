#!/usr/bin/env python3
"""A webhook receiver for tests: records each POST body as one line of JSON
in the file given, answers 200. Prints its port on stdout once listening.
Usage: webhook_server.py OUTFILE"""
import http.server, json, sys

out = sys.argv[1]

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass

s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
