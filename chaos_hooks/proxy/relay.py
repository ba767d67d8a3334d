"""The fast path: one native OS thread relays every direction that has no toxic on it.

It waits with its own epoll and moves bytes with non-blocking os.read/os.write on the sockets' fds, so
traffic without toxics never wakes the gevent hub nor runs a greenlet. A direction (a link.Pipe) is handed
to the greenlet pipeline the moment a toxic applies to it, and handed back once its chain is empty and its
queue is drained. Every handover happens under one lock, together with the bytes read but not yet written,
so no byte is lost or reordered. The thread never closes a socket: end of stream and errors go to the hub.
"""
import collections
import errno
import os

import gevent
from gevent import monkey

_epoll = monkey.get_original("select", "epoll")  # gevent's patched select has none; this thread must block
_start_thread = monkey.get_original("_thread", "start_new_thread")
_allocate_lock = monkey.get_original("_thread", "allocate_lock")
EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP = 0x001, 0x004, 0x008, 0x010
CHUNK = 65536
_relay = None


def get_relay():
    """The relay of this process, or None when disabled (LOCUST_CHAOS_PROXY_FAST_PATH=0: greenlets only)."""
    global _relay
    if os.environ.get("LOCUST_CHAOS_PROXY_FAST_PATH", "1") == "0":
        return None
    if _relay is None:
        _relay = Relay()
    return _relay


class Relay:
    def __init__(self):
        self.lock = _allocate_lock()
        self.epoll = _epoll()
        self.fds: dict[int, list] = {}  # fd -> [pipe reading it, pipe writing it, registered event mask]
        self.to_hub = collections.deque()  # (pipe, what) the hub must finish: "eof" or "error"
        self.wakeup = gevent.get_hub().loop.async_()  # the one thread-safe way to wake the hub
        self.wakeup.ref = False  # the relay alone must not keep a gevent program from exiting
        self.wakeup.start(self._on_hub)
        _start_thread(self._run, ())

    # --- called from the hub ---------------------------------------------------------------------------
    def adopt(self, pipe, pending: bytes = b"") -> None:
        """Takes over a direction nobody else reads or writes now; `pending` is written first."""
        with self.lock:
            pipe.fast, pipe.pending = True, pending
            self._entry(pipe.src_fd)[0] = pipe
            self._entry(pipe.dst_fd)[1] = pipe
            self._update(pipe.src_fd)
            self._update(pipe.dst_fd)

    def release(self, pipe):
        """Gives a direction back to the hub: the bytes read but not written yet, or None if not held."""
        with self.lock:
            return self._release(pipe)

    # --- the relay thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        poll, lock, fds = self.epoll.poll, self.lock, self.fds
        while True:
            try:
                events = poll()
            except InterruptedError:
                continue
            with lock:
                for fd, ev in events:
                    entry = fds.get(fd)
                    if entry is None:
                        continue  # released since poll() returned
                    writer = entry[1]
                    if writer is not None and writer.pending:
                        self._flush(writer)
                    reader = entry[0]
                    if reader is not None and reader.fast and not reader.pending:
                        self._pump(reader)

    def _pump(self, pipe) -> None:
        try:
            data = os.read(pipe.src_fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # reset or closed: ends this direction like an EOF, as the greenlet pipeline does
        if not data:
            self._to_hub(pipe, "eof")
            return
        try:
            sent = os.write(pipe.dst_fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._to_hub(pipe, "error")
            return
        if sent < len(data):
            pipe.pending = data[sent:]  # stop reading this source until the destination drains
            self._update(pipe.src_fd)
            self._update(pipe.dst_fd)

    def _flush(self, pipe) -> None:
        try:
            sent = os.write(pipe.dst_fd, pipe.pending)
        except BlockingIOError:
            return
        except OSError:
            self._to_hub(pipe, "error")
            return
        pipe.pending = pipe.pending[sent:]
        if not pipe.pending:
            self._update(pipe.src_fd)
            self._update(pipe.dst_fd)

    def _to_hub(self, pipe, what: str) -> None:
        self._release(pipe)
        self.to_hub.append((pipe, what))
        self.wakeup.send()

    # --- bookkeeping, under the lock ----------------------------------------------------------------------
    def _entry(self, fd: int) -> list:
        entry = self.fds.get(fd)
        if entry is None:
            entry = self.fds[fd] = [None, None, 0]
        return entry

    def _release(self, pipe):
        if not pipe.fast:
            return None
        pipe.fast = False
        pending, pipe.pending = pipe.pending, b""
        for fd, slot in ((pipe.src_fd, 0), (pipe.dst_fd, 1)):
            entry = self.fds.get(fd)
            if entry is not None and entry[slot] is pipe:
                entry[slot] = None
                self._update(fd)
        return pending

    def _update(self, fd: int) -> None:
        """Registers exactly the interest the fd's two directions have now (level-triggered)."""
        entry = self.fds[fd]
        reader, writer = entry[0], entry[1]
        mask = (EPOLLIN if reader is not None and not reader.pending else 0) | \
               (EPOLLOUT if writer is not None and writer.pending else 0)
        if mask == entry[2]:
            if reader is None and writer is None:
                del self.fds[fd]
            return
        try:
            if mask == 0:
                self.epoll.unregister(fd)  # a zero mask would still report HUP/ERR, over and over
            elif entry[2] == 0:
                self.epoll.register(fd, mask)
            else:
                self.epoll.modify(fd, mask)
        except OSError as err:
            if err.errno not in (errno.ENOENT, errno.EBADF):
                raise
        entry[2] = mask
        if reader is None and writer is None:
            del self.fds[fd]

    # --- back in the hub ---------------------------------------------------------------------------------
    def _on_hub(self) -> None:
        while self.to_hub:
            pipe, what = self.to_hub.popleft()
            if what == "eof":
                gevent.spawn(pipe.fast_path_ended)
            else:
                pipe.conn.close()
