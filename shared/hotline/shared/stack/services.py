"""The five services of the suite: where their code lives and which port each listens on."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    package: str
    port: int
    summary: str

    @property
    def asgi_app(self) -> str:
        return f"{self.package}.main:app"


SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry("intake", "hotline.intake", 8001, "call records and tickets from the call centre"),
    ServiceEntry("dispatch", "hotline.dispatch", 8002, "tickets forwarded to handling units"),
    ServiceEntry("callback", "hotline.callback", 8003, "satisfaction surveys of closed tickets"),
    ServiceEntry("scoring", "hotline.scoring", 8004, "statistics, bulletin tables, quality rules"),
    ServiceEntry(
        "provincial-sync",
        "hotline.provincial_sync",
        8005,
        "uploads to the provincial platform",
    ),
)
SERVICES_BY_NAME = {service.name: service for service in SERVICES}
# `hotline province`, the provincial platform's side of the exchange, simulated for development.
PROVINCE_PORT = 8009
