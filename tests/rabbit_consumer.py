"""A small RabbitMQ consumer for tests: manual acks, prefetch 1, each acked body appended to --out.

    python tests/rabbit_consumer.py --url amqp://u:p@127.0.0.1:PORT/VHOST --queue Q --pidfile F
                                    [--out FILE] [--wedge-after N]

With --wedge-after N it acks N messages, then takes one more and never acks it while staying connected
(heartbeats go on): a wedged consumer holding one unacked message, so the queue backs up behind it.
The pidfile is written once it consumes. When the broker closes its connection it prints
"connection closed: ..." and exits 3. SIGKILL-able: the broker then requeues what it held.
"""
import argparse
import os
import sys

import pika
import pika.exceptions


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--queue", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--out", help="append each acked body here, one per line")
    ap.add_argument("--wedge-after", type=int, default=None, metavar="N")
    args = ap.parse_args()

    params = pika.URLParameters(args.url)
    params.client_properties = {"connection_name": f"rabbit-consumer-{os.getpid()}"}
    conn = pika.BlockingConnection(params)
    channel = conn.channel()
    channel.basic_qos(prefetch_count=1)
    acked = 0

    def on_message(ch, method, _props, body):
        nonlocal acked
        if args.wedge_after is not None and acked >= args.wedge_after:
            print(f"wedged holding delivery {method.delivery_tag}", flush=True)
            return  # never acked: with prefetch 1 the broker sends nothing more
        if args.out:
            with open(args.out, "ab") as f:
                f.write(body + b"\n")
        ch.basic_ack(method.delivery_tag)
        acked += 1

    channel.basic_consume(args.queue, on_message, auto_ack=False)
    tmp = args.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(tmp, args.pidfile)  # whole or absent: the test waits for it
    print("consuming", flush=True)
    try:
        channel.start_consuming()
    except (pika.exceptions.ConnectionClosedByBroker, pika.exceptions.StreamLostError,
            pika.exceptions.ChannelClosedByBroker) as err:
        print(f"connection closed: {err!r}", flush=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
