"""The SIP line's settings (HAUSRUF_SIP_*): a group of the settings registry (ivr.config), checked at start.

Values are parsed by the registry like every setting (`hausruf config` shows them, a bad value stops
every command at start). What only `hausruf sip` needs on top (registration needs all three of
registrar, user and password; somebody must be allowed to call; host names must resolve) is checked
by sip_start_problems() when the line starts, so a Twilio-only hotline is never held up by it.
Kept light: the registry imports this module at every start.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field, replace

from ivr.config import SettingProblem, choice, setting, text

DEFAULT_RTP_PORTS = "10000-10999"  # two ports (RTP, RTCP) per call


def split_host_port(value: str, default_port: int | None = None) -> tuple[str, int | None]:
    """'host', 'host:5060', '[::1]:5060', 'sip:host' -> (host, port); ValueError saying what is allowed."""
    value = value.strip().removeprefix("sip:")
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, port_text = value.split(":")
    else:
        host, port_text = value, ""
    if not host:
        raise ValueError("no host; expected HOST or HOST:PORT, e.g. sipgate.de or 192.168.178.1:5060")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def listen_address(raw: str) -> str:
    """ADDRESS:PORT to listen on, e.g. 0.0.0.0:5060 (the port defaults to 5060)."""
    host, port = split_host_port(raw, 5060)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address; expected ADDRESS:PORT, e.g. 0.0.0.0:5060") from None
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def host_port(raw: str) -> str:
    """HOST or HOST:PORT of a trunk, PBX or proxy."""
    split_host_port(raw)
    return raw.strip().removeprefix("sip:")


def address_list(raw: str) -> str:
    """Comma-separated addresses, networks or host names."""
    for entry in _entries(raw):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            split_host_port(entry)  # a host name: resolved when the line starts
    return ", ".join(_entries(raw))


def _entries(raw: str | None) -> tuple[str, ...]:
    return tuple(entry.strip() for entry in (raw or "").split(",") if entry.strip())


def port_range(raw: str) -> str:
    """FIRST-LAST UDP ports for the audio."""
    first, _, last = raw.partition("-")
    if first.strip().isdigit() and last.strip().isdigit() and 1024 <= int(first) < int(last) < 65536:
        return f"{int(first)}-{int(last)}"
    raise ValueError(f"expected FIRST-LAST between 1024 and 65535, e.g. {DEFAULT_RTP_PORTS}")


def ip_address(raw: str) -> str:
    """An IP address."""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        raise ValueError("expected the public IP address, e.g. 203.0.113.7") from None


@dataclass(frozen=True)
class SipSettings:
    """SIP trunk or PBX (hausruf sip): where to listen, whom to register with, whom to trust."""

    listen: str = setting("HAUSRUF_SIP_LISTEN", listen_address, "0.0.0.0:5060",
                                      help="address:port for SIP over UDP and TCP")
    registrar: str | None = setting("HAUSRUF_SIP_REGISTRAR", host_port,
                                    help="trunk or PBX to register with, host[:port] (e.g. sipgate.de, fritz.box)")
    user: str | None = setting("HAUSRUF_SIP_USER", text, help="SIP account user (digest authentication)")
    password: str | None = setting("HAUSRUF_SIP_PASSWORD", text, secret=True, help="SIP account password")
    outbound_proxy: str | None = setting("HAUSRUF_SIP_OUTBOUND_PROXY", host_port,
                                         help="host[:port] requests go through; numbers are dialled there "
                                              "when no registrar is set")
    allow: str = setting("HAUSRUF_SIP_ALLOW", address_list, "",
                                     help="addresses, networks or host names that may call in (others get 403)")
    rtp_ports: str = setting("HAUSRUF_SIP_RTP_PORTS", port_range, DEFAULT_RTP_PORTS,
                                         help="FIRST-LAST UDP ports for the calls' audio")
    public_address: str | None = setting("HAUSRUF_SIP_PUBLIC_ADDRESS", ip_address,
                                         help="the public IP address when the server is behind NAT")
    called_number: str = setting("HAUSRUF_SIP_CALLED_NUMBER", choice("to", "request-uri"), "to",
                                 help="where the called number (HAUSRUF_NUMBERS) is read: the To header (to) "
                                      "or the request URI (request-uri)")
    # Resolved when the line starts (sip_start_problems), not read from the environment.
    trusted_networks: tuple = field(default=(), compare=False, repr=False)

    @property
    def listen_host(self) -> str:
        return split_host_port(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return split_host_port(self.listen, 5060)[1]

    @property
    def allowed(self) -> tuple[str, ...]:
        """The entries of HAUSRUF_SIP_ALLOW."""
        return _entries(self.allow)

    @property
    def rtp_port_start(self) -> int:
        return int(self.rtp_ports.split("-")[0])

    @property
    def rtp_port_count(self) -> int:
        first, last = (int(port) for port in self.rtp_ports.split("-"))
        return last - first + 1

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


def sip_start_problems(sip: SipSettings, resolve=socket.getaddrinfo) -> tuple[SipSettings, list[SettingProblem]]:
    """What `hausruf sip` checks before it starts: the settings with trust resolved, and every problem."""
    problems = []
    given = {"HAUSRUF_SIP_REGISTRAR": sip.registrar, "HAUSRUF_SIP_USER": sip.user, "HAUSRUF_SIP_PASSWORD": sip.password}
    missing = sorted(name for name, value in given.items() if not value)
    if len(missing) in (1, 2):
        problems.append(SettingProblem(missing[0], "", "registering needs HAUSRUF_SIP_REGISTRAR, HAUSRUF_SIP_USER "
                                                       f"and HAUSRUF_SIP_PASSWORD together; missing: {', '.join(missing)}"))
    entries = [*sip.allowed, *(value for value in (sip.registrar, sip.outbound_proxy) if value)]
    networks, unresolved = resolve_networks(entries, resolve)
    problems += [SettingProblem("HAUSRUF_SIP_ALLOW", sip.allow, message) for message in unresolved]
    if not entries:
        problems.append(SettingProblem("HAUSRUF_SIP_ALLOW", "", "nobody could call: list the addresses of your trunk "
                                                                "or PBX, e.g. 192.168.178.1, or set HAUSRUF_SIP_REGISTRAR"))
    return replace(sip, trusted_networks=tuple(networks)), sorted(problems)
