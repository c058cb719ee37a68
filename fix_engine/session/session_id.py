"""SessionID: the identity of a FIX session (BeginString, CompIDs, optional qualifier)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SessionID:
    """Identifies one FIX session as QuickFIX does: ``FIX.4.4:SENDER->TARGET[:QUALIFIER]``.

    Sender is always *our* CompID and target the counterparty's, on both acceptor and initiator.
    Sub and location IDs are part of the identity only when configured (QuickFIX semantics).
    """

    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    session_qualifier: str = ""
    sender_sub_id: str = ""
    sender_location_id: str = ""
    target_sub_id: str = ""
    target_location_id: str = ""
    #: the hash of the identity, computed once (SessionIDs are dictionary keys on every send)
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_hash",
            hash((
                self.begin_string, self.sender_comp_id, self.target_comp_id, self.session_qualifier,
                self.sender_sub_id, self.sender_location_id, self.target_sub_id, self.target_location_id,
            )),
        )

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[SessionID], tuple[str, ...]]:
        # rebuilt from the identity (the hash of a str differs between processes)
        return SessionID, (
            self.begin_string, self.sender_comp_id, self.target_comp_id, self.session_qualifier,
            self.sender_sub_id, self.sender_location_id, self.target_sub_id, self.target_location_id,
        )

    def __str__(self) -> str:
        sender = self.sender_comp_id
        if self.sender_sub_id:
            sender += "/" + self.sender_sub_id
        if self.sender_location_id:
            sender += "/" + self.sender_location_id
        target = self.target_comp_id
        if self.target_sub_id:
            target += "/" + self.target_sub_id
        if self.target_location_id:
            target += "/" + self.target_location_id
        text = f"{self.begin_string}:{sender}->{target}"
        if self.session_qualifier:
            text += ":" + self.session_qualifier
        return text

    @property
    def file_prefix(self) -> str:
        """A file-name-safe form used by file stores and logs (``FIX.4.4-SENDER-TARGET``)."""
        parts = [self.begin_string, self.sender_comp_id]
        if self.sender_sub_id:
            parts.append(self.sender_sub_id)
        if self.sender_location_id:
            parts.append(self.sender_location_id)
        parts.append(self.target_comp_id)
        if self.target_sub_id:
            parts.append(self.target_sub_id)
        if self.target_location_id:
            parts.append(self.target_location_id)
        if self.session_qualifier:
            parts.append(self.session_qualifier)
        return "-".join(p.replace("/", "_").replace("\\", "_") for p in parts)

    @property
    def is_fixt(self) -> bool:
        return self.begin_string == "FIXT.1.1"

    def for_counterparty(self, target_comp_id: str, target_sub_id: str = "", target_location_id: str = "") -> SessionID:
        """This identity with a concrete counterparty (templated acceptor sessions, TargetCompID=*)."""
        return SessionID(
            self.begin_string,
            self.sender_comp_id,
            target_comp_id,
            self.session_qualifier,
            self.sender_sub_id,
            self.sender_location_id,
            target_sub_id,
            target_location_id,
        )
