"""The rendering machinery every printed document shares: from a template to PDF files.

A `DocumentRenderer` pairs one Jinja template with one stylesheet from the
package's `templates/`, and keeps one Fontconfig configuration and one parsed
stylesheet for all the documents it renders: building them is most of the cost of a
lone WeasyPrint call (DESIGN.md). Each kind of document (voucher letter, invoice,
school list) subclasses it and says what its template is given.

The stylesheets only use the fonts shipped in `fonts/` (declared once, in
`templates/fonts.css`), and a renderer only reads the package's own files and inline
data. Files are written whole or not at all, and `render_files` shares a large batch
among worker processes, one renderer each. Nothing here logs a name, a national
number or an amount: log lines carry counts.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import multiprocessing
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any, ClassVar, Generic, Protocol, TypeVar

import jinja2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

__all__ = [
    "FONTS_DIR",
    "POOL_FROM",
    "TEMPLATES_DIR",
    "DocumentRenderer",
    "checked_reference",
    "merge_pdfs",
    "render_files",
    "scoped_renderer",
    "write_atomically",
]

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
FONTS_DIR = PACKAGE_DIR / "fonts"
# Below this many documents, starting worker processes (about a second) costs more
# than it saves on this kind of machine (about 50 ms a letter, 2 cores).
POOL_FROM = 48

# A reference names the document's file, so it may only hold what is safe in one.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NATIONAL_NUMBER_SHAPE = re.compile(
    r"\d{2}[.\-\s]?\d{2}[.\-\s]?\d{2}[.\-\s]?\d{3}[.\-\s]?\d{2}"
)


class Referenced(Protocol):
    """A document that names its file: its pseudonymous reference, never an INSZ."""

    @property
    def reference(self) -> str: ...


D = TypeVar("D")


class DocumentRenderer(Generic[D]):
    """Renders one kind of document to PDF, reusing its fonts and stylesheet.

    A subclass names its `template_name` and `stylesheet_name` in `templates/` and
    implements `template_context`. Create one per process and keep it: it is not
    shared between threads (threads do not make WeasyPrint faster; processes do,
    see `render_files`).
    """

    template_name: ClassVar[str]
    stylesheet_name: ClassVar[str]

    def __init__(self) -> None:
        # Documents only read the package's own files and inline data: a template
        # mistake can never make the renderer fetch something over the network.
        self._url_fetcher = URLFetcher(allowed_protocols={"file", "data"})
        self._font_config = FontConfiguration()
        self._stylesheet = CSS(
            filename=str(TEMPLATES_DIR / self.stylesheet_name),
            font_config=self._font_config,
            url_fetcher=self._url_fetcher,
        )
        self._template = _templates().get_template(self.template_name)

    def template_context(self, document: D) -> dict[str, Any]:
        """What the template is given for the document; raises if it must not print."""
        raise NotImplementedError(
            f"{type(self).__name__} does not say what its template is given; "
            "implement template_context."
        )

    def html(self, document: D) -> str:
        """The document as HTML, before layout: what `render` turns into a PDF."""
        return self._template.render(self.template_context(document))

    def render(self, document: D) -> bytes:
        """The document as a PDF."""
        return self._document(document).write_pdf()

    def render_to(self, document: D, path: str | os.PathLike[str]) -> Path:
        """Writes the document's PDF to `path`, whole or not at all, and returns it."""
        path = Path(path)
        write_atomically(path, self.render(document))
        return path

    def render_merged(
        self, documents: Iterable[D], path: str | os.PathLike[str]
    ) -> Path:
        """Writes the documents as one PDF, each starting on a new sheet.

        The fonts are embedded once for the whole file. Every page stays in memory
        until the file is written: use it for print batches of hundreds of
        documents, and `merge_pdfs` for a whole run.
        """
        rendered = [self._document(document) for document in documents]
        if not rendered:
            raise ValueError("No documents to merge: pass at least one document.")
        pages = [page for document in rendered for page in document.pages]
        path = Path(path)
        write_atomically(path, rendered[0].copy(pages).write_pdf())
        return path

    def _document(self, document: D):
        page = HTML(
            string=self.html(document),
            base_url=TEMPLATES_DIR.as_uri() + "/",
            url_fetcher=self._url_fetcher,
        )
        return page.render(
            font_config=self._font_config, stylesheets=[self._stylesheet]
        )


def render_files(
    documents: Sequence[Referenced],
    out_dir: str | os.PathLike[str],
    renderer_class: type[DocumentRenderer],
    renderer_args: tuple[Any, ...] = (),
    *,
    processes: int | None = None,
    pool_from: int = POOL_FROM,
    noun: str = "documents",
) -> list[Path]:
    """Renders each document to `<out_dir>/<reference>.pdf`; returns the paths in order.

    Each process renders with its own `renderer_class(*renderer_args)`. From
    `pool_from` documents on, and with more than one process (`processes` defaults
    to the number of CPUs), the documents are shared among worker processes. Fewer
    documents are rendered in this process, by a renderer kept for the next call:
    starting the workers costs about a second. The workers start from a fork
    server, which imports the calling script again: a script that calls this must
    do so under `if __name__ == "__main__":`. `noun` names the documents in the
    log line.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [
        out_dir / f"{checked_reference(document.reference)}.pdf"
        for document in documents
    ]
    if len(set(targets)) != len(targets):
        raise ValueError(
            f"Two {noun} share a reference; give every document its own reference."
        )
    workers = processes or os.cpu_count() or 1
    if workers == 1 or len(documents) < pool_from:
        with scoped_renderer(renderer_class, *renderer_args) as renderer:
            paths = [
                renderer.render_to(document, target)
                for document, target in zip(documents, targets, strict=True)
            ]
        logger.info("Rendered %d %s in this process", len(paths), noun)
        return paths
    chunksize = max(1, len(documents) // (workers * 8))
    # Workers come from a fork server, not from forking this process: the caller
    # may be a Prefect task with threads, and a fork copies their held locks.
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_worker,
        initargs=(renderer_class, renderer_args),
    ) as pool:
        paths = list(
            pool.map(_render_in_worker, documents, targets, chunksize=chunksize)
        )
    logger.info("Rendered %d %s with %d processes", len(paths), noun, workers)
    return paths


@contextlib.contextmanager
def scoped_renderer(
    renderer_class: type[DocumentRenderer], *renderer_args: Any
) -> Iterator[DocumentRenderer]:
    """A renderer for one batch in this process, released in the thread that made it.

    WeasyPrint's font machinery (Pango, fontconfig) must be freed by the thread
    that created it: a renderer kept until interpreter exit in a Prefect task's
    worker thread crashes the process as it exits (a segmentation fault after the
    run is done). So no renderer outlives the batch it was made for.
    """
    renderer = renderer_class(*renderer_args)
    try:
        yield renderer
    finally:
        del renderer
        gc.collect()


def merge_pdfs(
    paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str]
) -> Path:
    """Joins the PDFs, in order, into one print file; returns its path.

    Needs pypdf at run time. Every document keeps its own font subset, so the file
    grows by one document's size per document.
    """
    try:
        from pypdf import PdfWriter
    except ImportError as exc:
        raise RuntimeError(
            "Merging PDFs needs pypdf: install it with `pip install pypdf`, or "
            "use render_merged of the renderer for a batch rendered in one go."
        ) from exc
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("No PDFs to merge: pass at least one path.")
    writer = PdfWriter()
    for path in paths:
        writer.append(path)
    out_path = Path(out_path)
    with _replacing(out_path) as target:
        writer.write(target)
    logger.info("Merged %d PDFs into one print file", len(paths))
    return out_path


def checked_reference(reference: str) -> str:
    """The document's reference, once known to be safe to print and to name a file.

    Raises ValueError for a reference with the shape of a national number, or one
    that is not 1-64 letters, digits, dots, dashes or underscores.
    """
    # The value is not quoted in the messages: it might be the national number
    # this check is there to keep off the document.
    if _NATIONAL_NUMBER_SHAPE.fullmatch(reference or ""):
        raise ValueError(
            "The document reference has the shape of a national number; pass the "
            "document's pseudonymous reference, never an INSZ."
        )
    if not _REFERENCE.fullmatch(reference or ""):
        raise ValueError(
            "The document reference is not 1-64 letters, digits, dots, dashes or "
            "underscores; pass the document's pseudonymous reference."
        )
    return reference


def write_atomically(path: Path, content: bytes) -> None:
    """Writes `content` to `path` so that the file appears only once it is whole."""
    with _replacing(path) as target:
        target.write(content)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[IO[bytes]]:
    # A crash mid-write must not leave half a document that a rerun takes for done:
    # the file appears under its name only once it is whole.
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".tmp-", delete=False
    ) as tmp:
        try:
            yield tmp
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


_worker_renderer: DocumentRenderer | None = None


def _start_worker(
    renderer_class: type[DocumentRenderer], renderer_args: tuple[Any, ...]
) -> None:
    global _worker_renderer
    _worker_renderer = renderer_class(*renderer_args)


def _render_in_worker(document: Referenced, target: Path) -> Path:
    if _worker_renderer is None:
        raise RuntimeError("The worker has no renderer: start it with _start_worker.")
    return _worker_renderer.render_to(document, target)
