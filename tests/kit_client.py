"""kit_client.py HOST PORT - the kit's own line client, to test servers with.

The tests drive a server under test with this client rather than with the
step's client, which the student may not have finished: a failure is then
the server's. It follows the kit's client contract: lines read on stdin are
sent; what the server sends is copied to stdout as it comes; at the end of
stdin it shuts down its sending half and goes on printing until the server
closes, then exits 0. If the server closes first, it says so on stderr and
exits 1. A connection that cannot be made is one line on stderr, exit 1.
"""
import os
import socket
import sys
import threading

def main():
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        s = socket.create_connection((host, port))
    except OSError as e:
        print(f"kit_client: cannot connect to {host}:{port}: {e.strerror}",
              file=sys.stderr, flush=True)
        return 1
    input_done = threading.Event()

    def send_input():
        for line in sys.stdin.buffer:
            try:
                s.sendall(line)
            except OSError:
                break
        input_done.set()
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=send_input, daemon=True).start()
    out = sys.stdout.buffer
    while True:
        try:
            data = s.recv(65536)
        except OSError as e:
            print(f"kit_client: connection lost: {e.strerror}",
                  file=sys.stderr, flush=True)
            return 1
        if not data:
            break
        out.write(data)
        out.flush()
    if input_done.is_set():
        return 0
    print("kit_client: connection closed by server", file=sys.stderr,
          flush=True)
    return 1

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the input thread may still be blocked reading stdin
