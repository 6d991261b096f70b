"""Rough XML-RPC throughput: calls/s of one method from N client processes for a few seconds.
usage: bench_rpc.py SERVERURL METHOD CLIENTS SECONDS (not a test; numbers go into reports)"""
import multiprocessing
import sys
import time

from rpcutil import connect


def worker(url, method, seconds, out):
    s = connect(url)
    fn = s
    for part in method.split("."):
        fn = getattr(fn, part)
    n, end = 0, time.time() + seconds
    while time.time() < end:
        fn()
        n += 1
    out.put(n)


if __name__ == "__main__":
    url, method, clients, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker, args=(url, method, seconds, q)) for _ in range(clients)]
    for p in ps:
        p.start()
    total = sum(q.get() for _ in ps)
    for p in ps:
        p.join()
    print("%s %s clients=%d: %.0f calls/s" % (url, method, clients, total / seconds))
