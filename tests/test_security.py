"""No other local process can reach the server: it listens nowhere and holds no secret
that a command line could show."""

from __future__ import annotations

import os
import re

import pytest
import rpyc
from bridges import Recorder

from bitbridge import server_info


def socket_inodes(pid: int) -> dict[int, int]:
    """Map each socket inode the process holds to its file descriptor."""
    inodes = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes[int(match.group(1))] = int(fd)
    return inodes


def listening(inodes: set[int]) -> list[str]:
    """Return the endpoints among ``inodes`` that accept connections."""
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        with open(f"/proc/net/{table}") as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[9]) in inodes:
                    found.append(f"{table} {fields[1]} state {fields[3]}")
    with open("/proc/net/unix") as rows:
        for row in list(rows)[1:]:
            fields = row.split()
            if int(fields[6]) in inodes and int(fields[3], 16) & 0x10000:  # __SO_ACCEPTCON
                found.append(f"unix {fields[7:] or 'unnamed'} listening")
    return found


@pytest.fixture
def server_pid():
    with Recorder() as recorder:
        yield server_info(recorder).pid
        assert recorder.pointer_size() == 4  # the owner's connection still works


def test_server_listens_on_no_endpoint(server_pid):
    inodes = socket_inodes(server_pid)
    assert inodes, "the server should hold its connected socket"
    assert listening(set(inodes)) == []


def test_a_stranger_cannot_open_the_servers_socket(server_pid):
    for fd in socket_inodes(server_pid).values():
        with pytest.raises(OSError, match="No such device or address"):
            open(f"/proc/{server_pid}/fd/{fd}", "rb")  # noqa: SIM115


def test_a_stranger_cannot_run_code_on_any_port_of_the_server(server_pid):
    ports = set()
    inodes = socket_inodes(server_pid)
    for table in ("tcp", "tcp6"):
        with open(f"/proc/net/{table}") as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[9]) in inodes:
                    ports.add(int(fields[1].split(":")[1], 16))
    for port in ports:  # none expected; should one appear, it must not serve strangers
        with pytest.raises((ConnectionError, OSError, EOFError)):
            rpyc.classic.connect("127.0.0.1", port).modules.os.getpid()
    assert ports == set()


def test_no_secret_or_fd_number_needed_on_the_command_line(server_pid):
    with open(f"/proc/{server_pid}/cmdline", "rb") as cmdline:
        argv = cmdline.read().split(b"\0")
    assert argv[-2].endswith(b"bootstrap.py")
    assert not any(b"token" in part or b"secret" in part for part in argv)
