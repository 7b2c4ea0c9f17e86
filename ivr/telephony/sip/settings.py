"""The SIP line's settings from the environment, validated at start: every problem reported at once."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field

DEFAULT_LISTEN = "0.0.0.0:5060"
DEFAULT_RTP_PORTS = "10000-10999"  # two ports (RTP, RTCP) per call: room for 500 calls


class SipSettingsError(ValueError):
    """One or more SIP settings are wrong; the message lists them all, one per line."""


@dataclass(frozen=True)
class SipSettings:
    """HAUSRUF_SIP_*: where to listen, whom to register with, whom to trust."""

    listen_host: str = "0.0.0.0"
    listen_port: int = 5060
    registrar: str | None = None  # host[:port] of the trunk or PBX, e.g. sipgate.de or fritz.box
    user: str | None = None
    password: str | None = None
    outbound_proxy: str | None = None  # host[:port]; calls out go here (else to the registrar)
    allow: tuple[str, ...] = ()  # addresses, networks or host names that may send INVITEs
    rtp_port_start: int = 10000
    rtp_port_count: int = 1000
    public_address: str | None = None  # the address the trunk sees, for NAT (SDP and Contact)
    trusted_networks: tuple = field(default=(), compare=False)  # resolved at start (allow + registrar + proxy)

    @property
    def registers(self) -> bool:
        """Register with a trunk or PBX (all three of registrar, user, password set)."""
        return bool(self.registrar and self.user and self.password)

    @property
    def dial_domain(self) -> str | None:
        """Where numbers are dialled: sip:NUMBER@<this>; the registrar's domain, else the outbound proxy."""
        return self.registrar or self.outbound_proxy

    def trusts(self, address: str) -> bool:
        """True when an INVITE from this IP address may be answered."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_networks)

    def masked(self) -> dict[str, str]:
        """For `hausruf sip --check` and logs: every setting, the password hidden."""
        return {"listen": f"{self.listen_host}:{self.listen_port}", "registrar": self.registrar or "-",
                "user": self.user or "-", "password": "***" if self.password else "-",
                "outbound_proxy": self.outbound_proxy or "-", "allow": ", ".join(self.allow) or "-",
                "rtp_ports": f"{self.rtp_port_start}-{self.rtp_port_start + self.rtp_port_count - 1}",
                "public_address": self.public_address or "-"}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def split_host_port(value: str, default_port: int | None = None) -> tuple[str, int | None]:
    """'host', 'host:5060', '[::1]:5060' -> (host, port); ValueError with what is allowed."""
    value = value.strip()
    if value.startswith("sip:"):
        value = value[4:]
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    else:
        host, port_text = value, ""
    if not host:
        raise ValueError("no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def resolve_networks(entries, resolve=socket.getaddrinfo) -> tuple[list, list[str]]:
    """Addresses, networks (10.0.0.0/8) and host names -> networks; (networks, problems)."""
    networks, problems = [], []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        try:
            host, _ = split_host_port(entry)
            addresses = {info[4][0] for info in resolve(host, None)}
        except (OSError, ValueError) as exc:
            problems.append(f"{entry!r} is neither an address, a network like 192.168.178.0/24, "
                            f"nor a host name that resolves ({exc})")
            continue
        networks.extend(ipaddress.ip_network(address) for address in sorted(addresses))
    return networks, problems


def load_sip_settings(environ=None, resolve=socket.getaddrinfo) -> SipSettings:
    """Read HAUSRUF_SIP_*; SipSettingsError listing every problem (with what is allowed)."""
    env = dict(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = (env.get(name) or "").strip()
        return value or None

    problems: list[str] = []
    values: dict = {}
    listen = get("HAUSRUF_SIP_LISTEN") or DEFAULT_LISTEN
    try:
        host, port = split_host_port(listen, 5060)
        ipaddress.ip_address(host)
        values.update(listen_host=host, listen_port=port)
    except ValueError as exc:
        problems.append(f"HAUSRUF_SIP_LISTEN={listen}: {exc}; expected ADDRESS:PORT, e.g. 0.0.0.0:5060")
    for name, key in (("HAUSRUF_SIP_REGISTRAR", "registrar"), ("HAUSRUF_SIP_OUTBOUND_PROXY", "outbound_proxy")):
        value = get(name)
        if value:
            try:
                split_host_port(value)
                values[key] = value.removeprefix("sip:")
            except ValueError as exc:
                problems.append(f"{name}={value}: {exc}; expected HOST or HOST:PORT, e.g. sipgate.de")
    values["user"], values["password"] = get("HAUSRUF_SIP_USER"), get("HAUSRUF_SIP_PASSWORD")
    registration = [n for n in ("HAUSRUF_SIP_REGISTRAR", "HAUSRUF_SIP_USER", "HAUSRUF_SIP_PASSWORD") if get(n)]
    if registration and len(registration) < 3:
        missing = sorted({"HAUSRUF_SIP_REGISTRAR", "HAUSRUF_SIP_USER", "HAUSRUF_SIP_PASSWORD"} - set(registration))
        problems.append(f"{', '.join(missing)} not set: registering needs HAUSRUF_SIP_REGISTRAR, "
                        "HAUSRUF_SIP_USER and HAUSRUF_SIP_PASSWORD together")
    allow = tuple(a.strip() for a in (get("HAUSRUF_SIP_ALLOW") or "").split(",") if a.strip())
    values["allow"] = allow
    rtp = get("HAUSRUF_SIP_RTP_PORTS") or DEFAULT_RTP_PORTS
    start, _, end = rtp.partition("-")
    if start.isdigit() and end.isdigit() and 1024 <= int(start) < int(end) < 65536:
        values.update(rtp_port_start=int(start), rtp_port_count=int(end) - int(start) + 1)
    else:
        problems.append(f"HAUSRUF_SIP_RTP_PORTS={rtp}: expected FIRST-LAST between 1024 and 65535, "
                        f"e.g. {DEFAULT_RTP_PORTS}")
    public = get("HAUSRUF_SIP_PUBLIC_ADDRESS")
    if public:
        try:
            ipaddress.ip_address(public)
            values["public_address"] = public
        except ValueError:
            problems.append(f"HAUSRUF_SIP_PUBLIC_ADDRESS={public}: expected the public IP address, e.g. 203.0.113.7")
    trusted_entries = list(allow)
    for key in ("registrar", "outbound_proxy"):
        if values.get(key):
            trusted_entries.append(values[key])
    networks, resolve_problems = resolve_networks(trusted_entries, resolve)
    problems.extend(f"HAUSRUF_SIP_ALLOW: {p}" for p in resolve_problems)
    if not trusted_entries:
        problems.append("HAUSRUF_SIP_ALLOW is empty and no HAUSRUF_SIP_REGISTRAR is set: nobody could call; "
                        "list the addresses of your trunk or PBX, e.g. HAUSRUF_SIP_ALLOW=192.168.178.1")
    if problems:
        raise SipSettingsError("\n".join(problems))
    return SipSettings(**values, trusted_networks=tuple(networks))
