"""The errors Proactief raises, in one place.

ProactiefError
├── InvalidInsz              a national number that fails its format or check digits
├── CityDataError            a synthetic city folder that is missing or malformed
├── RegistryError            the registry gateway could not give an answer
│   ├── RegistryUnavailable  retries ran out (99996, HTTP 5xx, time-outs)
│   ├── RegistryRefused      the gateway refused the consumer, purpose or request
│   └── RegistryAnswerError  an answer that cannot be read as MAGDA XML
├── CohortError              a cohort that cannot be decided (empty, mostly failing)
├── RuleParameterError       a parameter file with no value for the requested date
├── PupilFileError           a file a school sent (pupil list, billing lines) that
│                            cannot be read at all
├── ReviewCaseStateError     a review decision or reopening the case's state forbids
├── AccountError             an account that cannot be created or changed as asked
├── StoreSchemaError         a store database this version cannot bring up to date
└── RunInProgress            a run refused because another run of its benefit goes on

Messages never carry a national number, a name or an amount: they may end up in a
log line, a Prefect state message or an artifact. Where a subject must be named, use
its pseudonymous reference (`proactief.insz.pseudonym`).
"""


class ProactiefError(Exception):
    """Base of every error Proactief raises on purpose."""


class InvalidInsz(ProactiefError, ValueError):
    """A national number (INSZ) that fails its format or check digits."""


class SettingsError(ProactiefError, ValueError):
    """An environment variable of Proactief's settings with a value it cannot use."""


class CityDataError(ProactiefError):
    """A synthetic city folder that is missing or malformed."""


class RegistryError(ProactiefError):
    """The registry gateway could not give a usable answer."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class RegistryUnavailable(RegistryError):
    """The gateway kept failing (99996, HTTP 5xx, time-outs) after every retry."""


class RegistryRefused(RegistryError):
    """The gateway refused the request (unknown consumer or purpose, bad request)."""


class RegistryAnswerError(RegistryError):
    """An answer that is not the MAGDA message it should be."""


class CohortError(ProactiefError):
    """A cohort that cannot be decided as a whole (empty, or most rows failing)."""


class RuleParameterError(ProactiefError):
    """A parameter file that has no value in force on the requested date."""


class PupilFileError(ProactiefError):
    """A file a school sent (pupil list, billing lines) that cannot be read at all.

    The message is meant for the school: it says what is wrong, where (file, line,
    column) and what to do. `reason` is a stable code for the same problem, `path`
    the file as given, `line` and `column` where the problem is (when known).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        path: str,
        line: int | None = None,
        column: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path
        self.line = line
        self.column = column


class ReviewCaseStateError(ProactiefError):
    """A review case that cannot be decided or reopened in its present state
    (already decided, not decided yet, or its letter or invoice already sent)."""


class AccountError(ProactiefError):
    """An account that cannot be created or changed as asked."""


class StoreSchemaError(ProactiefError):
    """A store database this version cannot bring to its newest schema (a revision
    it does not know, or tables from before migrations with parts missing)."""


class RunInProgress(ProactiefError):
    """A run refused because another run of the same benefit still holds its lock
    (see `proactief.run_locks`)."""
