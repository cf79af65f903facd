"""The ``nertag`` command: click wrappers that parse options and call the typed functions of
:mod:`nertag.commands`, turning their errors into one line each.

Nothing heavy (torch, jieba, seqeval) is imported until a command runs, so ``nertag --help`` is
quick. Installed as ``nertag.cli`` (see pyproject.toml), so no top-level ``cli`` module is installed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import signal
import sys
import traceback
from typing import Any, Callable, Iterator

import click

from nertag.config import LEXICON_CLASS_SOURCES, WEIGHTS_DTYPES, ModelConfig, TrainConfig
from nertag.errors import NertagError
from nertag.schemes import DECODING_SCHEMES
from nertag.version import __version__

log = logging.getLogger("nertag")


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C, so half-written outputs are removed on the way out."""


def _raise_terminated(_signal: int, _frame: Any) -> None:
    raise Terminated


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad input into one line on stderr and exit status 1; ``--verbose`` adds the traceback.

    Ctrl-C exits 130 and SIGTERM 143 (outside training, which stops resumably with 130 for both),
    each with one line, after the outputs' clean-up has run; a closed standard output ends the
    command quietly.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            _quiet_after_broken_pipe()
        except (KeyboardInterrupt, Terminated) as stop:
            _flush_quietly()
            click.echo("nertag: interrupted; what went to standard output or a pipe is kept, an output file is left as it was", err=True)
            sys.exit(143 if isinstance(stop, Terminated) else 130)
        except (NertagError, ValueError, OSError) as error:
            if click.get_current_context().find_root().params.get("verbose"):
                traceback.print_exc()
            click.echo(f"nertag: error: {error}", err=True)
            sys.exit(1)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


def _quiet_after_broken_pipe() -> None:
    """The reader of standard output went away (``nertag tag big.txt | head -1``): stop quietly with
    the status a filter killed by SIGPIPE has, and keep Python from complaining at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    sys.exit(141)


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nertag")
@click.option("--verbose", is_flag=True, help="Show tracebacks and debug logging.")
def main(verbose: bool) -> None:
    """Named-entity tagging with a BiLSTM-CRF: train on CoNLL files, tag text, score predictions."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", stream=sys.stderr)


def _check_plot(plot_path: str | None, out_dir: str | None, inputs: list[str | None]) -> None:
    """Refuse, before training, a chart path that is an input, a model's file, or in the model folder."""
    from nertag.errors import OutputError
    from nertag.safe_write import check_output_file

    if plot_path is None:
        return
    if out_dir is not None:
        out, chart = os.path.realpath(out_dir), os.path.realpath(plot_path)
        if out in (chart, os.path.dirname(chart)):
            raise OutputError(plot_path, f"is in the model folder {out_dir}, which nertag replaces whole; put the chart beside it")
    check_output_file(plot_path, inputs)


def _load_tagger(model: str, device: str, precision: str = "auto", backend: str | None = None, style: str | None = None) -> Any:
    from nertag.api import load

    return load(model, device, precision, backend, style=style)


_STYLE_HELP = "With --model trained with --style-dim: tag in the style of this training corpus (its file name, or <Dataset N> for the Nth corpus of a fit() given Datasets; config.json lists them under model.styles), or a blend such as a.bio=0.8,b.bio=0.2; \"\" is the learned mixture. Default: the model's own."


@main.command("train")
@click.option("--train", "train_paths", multiple=True, type=click.Path(), help="Training corpus (CoNLL columns, or a folder from Dataset.save_to_disk); repeat to train on several.")
@click.option("--label-map", "label_maps", multiple=True, help="Map corpus labels to model labels, e.g. NAME=PER,ADDRESS=LOC,POSITION=O (O drops a label); repeatable.")
@click.option("--dev", "dev_path", default=None, type=click.Path(), help="Dev corpus (as --train), for early stopping.")
@click.option("--dev-fraction", default=0.0, help="Without --dev: hold out this share of TRAIN (drawn with --seed) as dev.")
@click.option("--embeddings", type=click.Path(), default=None, help="word2vec/GloVe text file for the word table (char-unit models: the segmenter-word table).")
@click.option("--char-embeddings", type=click.Path(), default=None, help="Vector file for the character table.")
@click.option("--bigram-embeddings", type=click.Path(), default=None, help="Vector file for character bigrams (two-character entries).")
@click.option("--plot", "plot_path", type=click.Path(), default=None, help="Save an SVG chart of loss and dev F1 per epoch here.")
@click.option("--weights-dtype", type=click.Choice(list(WEIGHTS_DTYPES)), default="float32", show_default=True, help="float16 halves the model file; int8 also stores embedding tables as int8 rows (about a quarter).")
@click.option("--out", "out_dir", default=None, help="Model folder to write: absent, empty, or an earlier nertag model (replaced whole).")
@click.option("--resume", "resume_dir", default=None, type=click.Path(file_okay=False), help="Continue the run whose checkpoint is this folder (OUT.checkpoint); other options come from it.")
@click.option("--init", default=None, help="Fine-tune: start from this model (built-in name or folder), keeping its architecture and vocabularies (new items added); architecture options that differ are refused, except a smaller --hidden-size, which keeps its most used units.")
@click.option("--keep-labels", is_flag=True, help="With --init: keep the initial model's labels that TRAIN lacks (by default they are dropped).")
@click.option("--teacher", default=None, help="Distil: also learn this model's tag posteriors at every training token (built-in name or folder; same labels and scheme), e.g. a narrow student from a wide teacher.")
@click.option("--teacher-weight", type=float, default=None, help="With --teacher: the share of the loss spent matching it.  [default: 0.5]")
@click.option("--swap-names", type=click.Path(), default=None, help="A name<TAB>LABEL list (as --dictionary): also train on copies of sentences with their entities' names swapped for listed names of the same label, so the model learns names it never saw and to read their context.")
@click.option("--swap-rate", type=float, default=None, help="With --swap-names: the share of sentences (holding an entity of a listed label) that get a swapped copy.  [default: 0.3]")
@click.option("--entity-dropout", default=TrainConfig.entity_dropout, show_default=True, help="The share of gold entities whose token, bigram and segmenter-word ids read <unk> in each training batch (shape, lexicon classes, a word model's character encoder and the context stay), so the model learns to find names it never saw.")
@click.option("--epochs", default=TrainConfig.epochs, show_default=True, help="Most epochs to train.")
@click.option("--patience", default=TrainConfig.patience, show_default=True, help="Stop after this many epochs without a better dev F1.")
@click.option("--batch-size", default=TrainConfig.batch_size, show_default=True)
@click.option("--lr", default=TrainConfig.lr, show_default=True, help="Adam learning rate.")
@click.option("--lr-decay", default=TrainConfig.lr_decay, show_default=True, help="Learning rate of epoch e is lr / (1 + decay * (e - 1)).")
@click.option("--ema-decay", default=TrainConfig.ema_decay, show_default=True, help="Weight averaging for evaluation and saving; 0 turns it off.")
@click.option("--seed", default=TrainConfig.seed, show_default=True)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None, help="Default: cuda when available.")
@click.option("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice).")
@click.option("--tag-column", default=-1, show_default=True, help="Column of the tags, from 0; negative counts from the end.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the TRAIN and DEV column files (gb18030, gbk, big5, ... any Python knows).")
@click.option("--scheme", type=click.Choice([s.value for s in DECODING_SCHEMES]), default=ModelConfig.scheme, show_default=True, help="Scheme the CRF decodes in; output is always BIO.")
@click.option("--unit", type=click.Choice(["char", "word"]), default=None, help="Token unit (default: char when nearly all tokens are one character).")
@click.option("--cell", type=click.Choice(["lstm", "gru"]), default=ModelConfig.cell, show_default=True)
@click.option("--hidden-size", type=int, default=None, help="Sentence encoder size per direction; with --init, a smaller size narrows the initial model (faster tagging).")
@click.option("--layers", type=int, default=None)
@click.option("--dropout", type=float, default=None)
@click.option("--word-dim", type=int, default=None)
@click.option("--char-dim", type=int, default=None, help="Character embedding size; 0 turns the char encoder off.")
@click.option("--bigram-dim", type=int, default=None, help="Character bigram embedding size; 0 turns bigrams off.")
@click.option("--segment-dim", type=int, default=None, help="Embedding size of jieba words holding each character; 0 turns them off.")
@click.option("--lexicon/--no-lexicon", default=None, help="Dictionary-match features per character (char-unit models).")
@click.option("--lexicon-classes", type=click.Choice(LEXICON_CLASS_SOURCES), default=None, help="With --lexicon: whose name classes (person, place, organisation) the dictionary words carry: jieba's parts of speech (default) or Baidu LAC's tag for each word alone. With --init it may change.")
@click.option("--latin-runs/--no-latin-runs", default=None, help="Char-unit models: a run of Latin letters and digits is one token.")
@click.option("--shape-dim", type=int, default=None, help="Embedding size of each token's shape (CJK, Capitalised, digits...); 0 turns it off.")
@click.option("--style-dim", type=int, default=None, help="With several --train corpora: learn each one's conventions as a style, an embedding of this size; 0 (default) mixes them.")
@click.option("--tag-style", default=None, help="With --style-dim: the style tagging (and dev) follows: a --train file name, or a blend such as a.bio=0.8,b.bio=0.2 (default: the learned mixture).")
@click.option("--min-word-count", type=int, default=None, help="Rarer training tokens become <unk>.")
@click.option("--min-bigram-count", type=int, default=None)
@click.option("--min-segment-count", type=int, default=None, help="Rarer segmenter words become <unk> (counted per character).")
@friendly_errors
def train_command(
    train_paths: tuple[str, ...], dev_path: str | None, out_dir: str | None, resume_dir: str | None,
    label_maps: tuple[str, ...], **options: Any
) -> None:
    """Train a model on TRAIN, stop early on DEV entity F1, save the best epoch to OUT.

    Ctrl-C or SIGTERM stops after keeping the last finished epoch in OUT.checkpoint; run
    `nertag train --resume OUT.checkpoint` to finish with the model an uninterrupted run gives.
    """
    from nertag.config import TrainingJob
    from nertag.schemes import parse_label_map
    from nertag.train import default_config

    if resume_dir is not None:
        context = click.get_current_context()
        given = [
            param.opts[0] for param in context.command.params
            if param.name != "resume_dir" and param.name is not None
            and context.get_parameter_source(param.name) not in (None, click.core.ParameterSource.DEFAULT)
        ]
        if given:
            raise click.UsageError(f"--resume continues with the checkpoint's own data and options; drop {', '.join(given)}")
        _resume(resume_dir)
        return
    if not train_paths or out_dir is None:
        raise click.UsageError("give --train and --out (or --resume CHECKPOINT)")
    if dev_path is None and not options["dev_fraction"]:
        raise click.UsageError("give --dev FILE, or --dev-fraction to hold out part of --train")
    if dev_path is not None and options["dev_fraction"]:
        raise click.UsageError("give --dev FILE or --dev-fraction, not both")
    if options["tag_style"] is not None and not options["style_dim"] and options["init"] is None:
        raise click.UsageError("--tag-style picks one of the styles --style-dim learns; give --style-dim too")

    settings = TrainConfig(
        epochs=options["epochs"], batch_size=options["batch_size"], lr=options["lr"], lr_decay=options["lr_decay"],
        ema_decay=options["ema_decay"], seed=options["seed"], patience=options["patience"],
        device=options["device"] or _default_device(), threads=options["threads"],
        teacher_weight=_teacher_weight(options["teacher"], options["teacher_weight"]),
        entity_dropout=options["entity_dropout"],
    )
    files = {"words": options["embeddings"], "chars": options["char_embeddings"], "bigrams": options["bigram_embeddings"]}
    job = TrainingJob(
        train=train_paths, out=out_dir, dev=dev_path, label_map=parse_label_map(label_maps), dev_fraction=options["dev_fraction"], tag_column=options["tag_column"],
        weights_dtype=options["weights_dtype"], pretrained={table: path for table, path in files.items() if path},
        init=options["init"], keep_labels=options["keep_labels"], teacher=options["teacher"], folder=os.getcwd(),
        encoding=options["encoding"], **_swaps(options["swap_names"], options["swap_rate"]),
    )
    _check_plot(options["plot_path"], out_dir, [*train_paths, dev_path, *job.pretrained.values(), options["init"], options["teacher"], options["swap_names"]])

    def configure(sentences: Any) -> ModelConfig:
        return default_config(
            sentences, token_unit=options["unit"], scheme=options["scheme"], cell=options["cell"],
            hidden_size=options["hidden_size"], layers=options["layers"], dropout=options["dropout"],
            word_dim=options["word_dim"], char_dim=options["char_dim"], bigram_dim=options["bigram_dim"],
            segment_dim=options["segment_dim"], lexicon=options["lexicon"], lexicon_classes=options["lexicon_classes"],
            latin_runs=options["latin_runs"], shape_dim=options["shape_dim"], style_dim=options["style_dim"], tag_style=options["tag_style"],
            min_word_count=options["min_word_count"], min_bigram_count=options["min_bigram_count"],
            min_segment_count=options["min_segment_count"],
        )

    if options["init"] is not None:
        configure = _init_configure(options["init"], options)
    _run_training(job, configure, settings, options["plot_path"], resume=False)


def _swaps(names: str | None, rate: float | None) -> dict[str, Any]:
    """--swap-names and --swap-rate as TrainingJob fields (its default share when no rate); a rate alone is refused."""
    if names is None:
        if rate is not None:
            raise click.UsageError("--swap-rate needs --swap-names")
        return {}
    return {"swap_names": names, "swap_rate": rate}


def _teacher_weight(teacher: str | None, weight: float | None) -> float:
    """--teacher-weight, 0.5 by default with --teacher; refused without one."""
    if teacher is None:
        if weight is not None:
            raise click.UsageError("--teacher-weight needs --teacher")
        return 0.0
    return 0.5 if weight is None else weight


# `nertag train` options that set a ModelConfig field, by field; with --init they are checked
# against the initial model.
_MODEL_OPTIONS = {
    "token_unit": "unit", "scheme": "scheme", "cell": "cell", "hidden_size": "hidden_size", "layers": "layers",
    "dropout": "dropout", "word_dim": "word_dim", "char_dim": "char_dim", "bigram_dim": "bigram_dim",
    "segment_dim": "segment_dim", "lexicon": "lexicon", "lexicon_classes": "lexicon_classes", "latin_runs": "latin_runs",
    "shape_dim": "shape_dim",
    "style_dim": "style_dim", "tag_style": "tag_style",
    "min_word_count": "min_word_count", "min_bigram_count": "min_bigram_count", "min_segment_count": "min_segment_count",
}


def _init_configure(init: str, options: dict[str, Any]) -> Callable[[Any], ModelConfig]:
    """With --init the model settings are the initial model's: an architecture option given with
    another value is refused now, before anything is read or trained; min counts and dropout apply."""
    from click.core import ParameterSource

    from nertag.finetune import architecture_conflicts, finetune_config, read_initial_config

    context = click.get_current_context()
    given = {
        field: options[name] for field, name in _MODEL_OPTIONS.items()
        if context.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    }
    initial = read_initial_config(init)
    for field, value, kept in architecture_conflicts(initial, given):
        name = _MODEL_OPTIONS[field].replace("_", "-")
        option = f"--{'' if value else 'no-'}{name}" if isinstance(value, bool) else f"--{name} {value}"
        advice = "leave the option out, or give a smaller one" if field == "hidden_size" else "leave the option out"
        raise ValueError(f"{option} conflicts with {init}, whose {field} is {kept!r}: --init keeps the initial model's architecture; {advice}")
    config = finetune_config(initial, init, given)
    return lambda _sentences: config


def _run_training(job: Any, configure: Callable[[Any], ModelConfig], settings: TrainConfig, plot_path: str | None, resume: bool) -> None:
    """Train with a line per epoch and a batch bar on a terminal; Ctrl-C and SIGTERM keep the checkpoint.

    Under torchrun every process trains and rank 0 alone reports, so the log reads as one run's.
    """
    from nertag.commands.train import train_from_files
    from nertag.distributed import joined
    from nertag.train_state import TrainingHooks

    with joined(settings.device) as world:
        reporting = world is None or world.is_main
        if not reporting:
            logging.disable(logging.INFO)
        bar = _progress_bar(" batches") if reporting else None
        with _stop_on_signals(announce=reporting) as stopping:
            try:
                hooks = TrainingHooks(
                    on_epoch=_report_epoch if reporting else None, on_batch=_batch_reporter(bar), should_stop=stopping
                )
                _, history = train_from_files(job, configure, settings, hooks, resume=resume, world=world)
            finally:
                if bar is not None:
                    bar.close()
        if reporting:
            _finish_training(history, job.out, plot_path, " ".join(job.train))


def _batch_reporter(bar: Any) -> Callable[[int, int], None] | None:
    if bar is None:
        return None

    def report(done: int, total: int) -> None:
        if done == 1:
            bar.reset(total=total)
        bar.update(1)

    return report


def _report_epoch(entry: Any) -> None:
    mark = " *" if entry.improved else ""
    click.echo(
        f"epoch {entry.epoch:3d}  loss {entry.loss:8.4f}  dev P {100 * entry.precision:6.2f}  "
        f"R {100 * entry.recall:6.2f}  F1 {100 * entry.f1:6.2f}  {entry.seconds:6.1f}s{mark}",
        err=True,
    )


def _finish_training(history: Any, out_dir: str, plot_path: str | None, train_path: str) -> None:
    best = max(history, key=lambda e: e.f1)
    if plot_path:
        from nertag.plot import training_chart
        from nertag.safe_write import open_output

        with open_output(plot_path, sys.stdout) as out:
            out.write(training_chart(history, f"nertag train {train_path}"))
    click.echo(f"saved {out_dir} (best dev F1 {100 * best.f1:.2f} at epoch {best.epoch})", err=True)


def _resume(checkpoint: str) -> None:
    """Continue a stopped run with the data, settings and options stored in its checkpoint."""
    from nertag.commands.train import resume_job
    from nertag.distributed import launched_rank

    job, config, settings, finished = resume_job(checkpoint)
    for entry in finished if launched_rank() == 0 else []:
        click.echo(f"epoch {entry.epoch:3d}  (from the checkpoint)  dev F1 {100 * entry.f1:6.2f}", err=True)
    _run_training(job, lambda _: config, settings, None, resume=True)


@contextlib.contextmanager
def _stop_on_signals(announce: bool = True) -> Iterator[Callable[[], bool]]:
    """Turn SIGINT and SIGTERM into a request that training checks between batches; ``announce``
    says so on stderr (one process of a torchrun job does)."""
    from nertag.train_state import TrainingInterrupted

    requested: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _frame: requested.append(number)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(requested)
    except TrainingInterrupted as stop:
        if announce:
            click.echo(f"nertag: {stop}", err=True)
        sys.exit(130)  # training stops the same way for Ctrl-C and SIGTERM: checkpoint kept, resumable
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress_bar(unit: str) -> Any:
    """A tqdm bar on stderr when stderr is a terminal, else None: pipes and logs stay clean."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(unit=unit, unit_scale=True, file=sys.stderr, leave=False, dynamic_ncols=True)


@main.command("tag")
@click.argument("inputs", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--model", "-m", default=None, help="Built-in model name (see `nertag models`) or model directory; default: each line's language picks the built-in model.")
@click.option("--format", "output_format", type=click.Choice(["conll", "jsonl", "html"]), default="jsonl", show_default=True, help="html: a standalone page with entities highlighted (text input only).")
@click.option("--input-format", type=click.Choice(["text", "conll"]), default="text", show_default=True, help="text: one document a line; conll: tokens in the first column.")
@click.option("--output", "-o", type=click.Path(allow_dash=True), default=None, help="Output file (default: standard output); symlinks are written through, pipes and devices streamed into.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the input (gb18030, gbk, big5, ... any Python knows).")
@click.option("--nbest", type=click.IntRange(0, 100), default=0, help="Write the K most probable labellings of each sentence with their probabilities (jsonl).")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, help="Drop entities whose CRF probability is lower.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None)
@click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True, help="auto: bfloat16 where the CPU or GPU has it natively (faster LSTMs, see BENCHMARKS.md), else float32.")
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads (default: the cores the machine's load leaves free).")
@click.option("--workers", type=click.IntRange(0), default=0, show_default=True, help="Tag in this many processes (one thread each), output in input order (standard input too: records then come 2xN chunks late); 0: for input files of 4 MB or more, as many as the machine's load leaves cores free, else 1. An input that is a single chunk (2,000 lines or 262,144 characters), and any line of 262,144 characters or more, is tagged in this process on all its threads.")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default=None, help="What computes the emission scores (onnx: onnxruntime, CPU, float32). Default: torch, or onnx for a folder from `nertag export`.")
@click.option("--dictionary", "dictionary_path", type=click.Path(), default=None, help="Phrases to tag as given: TSV lines phrase<TAB>LABEL, or JSON lines {\"phrase\", \"label\"}.")
@click.option("--rules", default=None, help="Built-in patterns to tag: some of time,duration,money,percent,age, or all (off by default).")
@click.option("--patterns", "patterns_path", type=click.Path(), default=None, help="Your own patterns: lines of LABEL<TAB>regular expression.")
@click.option("--policy", type=click.Choice(["dictionary", "model", "gaps"]), default="dictionary", show_default=True, help="Where a dictionary or rule match overlaps the model's entities: the match wins; the model's confident entities win; or matches only fill gaps.")
@click.option("--explain", is_flag=True, help="Each jsonl record lists the dictionary and rule matches left out, with the reason.")
@click.option("--style", default=None, help=_STYLE_HELP)
@friendly_errors
def tag_command(
    inputs: tuple[str, ...], model: str | None, output_format: str, input_format: str, output: str | None,
    encoding: str, nbest: int, min_confidence: float, device: str | None, precision: str, threads: int | None,
    workers: int, backend: str | None, dictionary_path: str | None, rules: str | None, patterns_path: str | None,
    policy: str, explain: bool, style: str | None,
) -> None:
    """Tag INPUT files (default: standard input), one document a line, and write entities as JSON
    lines, CoNLL or an HTML page. Streams: each chunk of lines is written as soon as it is tagged."""
    from nertag.api import extra_entities
    from nertag.commands.tag import tag_column_inputs, tag_stream
    from nertag.hardware import use_threads
    from nertag.parallel import ModelSpec, all_regular_files, default_workers
    from nertag.routing import ModelChoice
    from nertag.safe_write import check_output_file, open_output
    from nertag.text_input import LinesRead, check_encoding, chunks_of_all, open_inputs

    if input_format == "conll" and output_format == "html":
        raise click.UsageError("--format html needs text input")
    if nbest and output_format != "jsonl":
        raise click.UsageError("--nbest writes jsonl; add --format jsonl")
    if input_format == "conll" and (nbest or min_confidence):
        raise click.UsageError("--nbest and --min-confidence apply to text input; conll input gets one tag per token")
    if nbest and min_confidence:
        raise click.UsageError("--nbest lists whole labellings with their probabilities; --min-confidence does not apply")
    if explain and output_format != "jsonl":
        raise click.UsageError("--explain writes its reasons into jsonl records; add --format jsonl")
    if style is not None and model is None:
        raise click.UsageError("--style picks a style of one model; give it with --model")
    if workers > 1 and (nbest or input_format == "conll"):
        raise click.UsageError("--workers tags text input without --nbest; leave it out here")
    extra = extra_entities(dictionary_path, rules, patterns_path, policy)
    if extra is not None and (nbest or input_format == "conll"):
        raise click.UsageError("--dictionary, --rules and --patterns apply to text input without --nbest")
    check_encoding(encoding)
    check_output_file(output, [*(inputs or ["-"]), dictionary_path, patterns_path, model])
    sources = open_inputs(inputs)
    use_threads(threads)
    models = ModelChoice(model, lambda name: _load_tagger(name, device or "cpu", precision, backend, style))
    models.load_named()
    progress = _progress_bar(" lines")
    try:
        with open_output(output, sys.stdout) as out:
            if input_format == "conll":
                tag_column_inputs(sources, encoding, models, out, output_format)
                return
            spec = ModelSpec(model, device or "cpu", precision, backend, style)
            # A stream wants each line answered as it comes, and workers answer in batches of
            # chunks: only files get them by default, anything that asks for them explicitly.
            workers = workers or (default_workers(inputs) if all_regular_files(inputs) else 1)
            lines_read = LinesRead()
            loss = tag_stream(
                chunks_of_all(sources, encoding, lines_read), models, out, output_format, min_confidence, nbest, progress,
                (workers, spec), extra, explain,
            )
            if loss.first is not None:
                source, line = lines_read.place(loss.first)
                click.echo(
                    f"nertag: warning: {source}:{line}: {_this_and_more(loss.documents, 'line')} spaces, tabs, control "
                    "characters or markup outside the model's tokens, which CoNLL output loses (jsonl keeps the text)",
                    err=True,
                )
    finally:
        if progress is not None:
            progress.close()


@main.command("score")
@click.argument("gold", type=click.Path())
@click.argument("pred", required=False, type=click.Path())
@click.option("--model", "-m", default=None, help="Tag GOLD's tokens with this model (name or directory) and score that.")
@click.option("--mode", type=click.Choice(["conlleval", "strict"]), default="conlleval", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--tag-column", default=-1, show_default=True)
@click.option("--label-map", "label_maps", multiple=True, help="Map labels of both files first, e.g. NAME=PER,POSITION=O.")
@click.option("--errors", "errors_path", type=click.Path(), default=None, help="Write sentences with wrong entities here, gold and predicted side by side.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None)
@click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True, help="auto: bfloat16 where the CPU or GPU has it natively (faster LSTMs, see BENCHMARKS.md), else float32.")
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads (default: the cores the machine's load leaves free).")
@click.option("--breakdown", is_flag=True, help="Also count each kind of error (exact, wrong type, wrong span, both, spurious, missed) per type, with a type confusion table.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the GOLD and PRED files (gb18030, gbk, big5, ... any Python knows).")
@click.option("--style", default=None, help=_STYLE_HELP)
@friendly_errors
def score_command(
    gold: str, pred: str | None, model: str | None, mode: str, as_json: bool, tag_column: int,
    errors_path: str | None, device: str | None, precision: str, label_maps: tuple[str, ...], threads: int | None,
    breakdown: bool, encoding: str, style: str | None,
) -> None:
    """Entity-level precision, recall and F1 of PRED (or of --model's tagging) against GOLD."""
    import json

    from nertag.commands.score import score_files
    from nertag.schemes import parse_label_map

    if (pred is None) == (model is None):
        raise click.UsageError("give either a PRED file or --model, not both or neither")
    if style is not None and model is None:
        raise click.UsageError("--style picks a style of the --model's tagging; give --model")
    from nertag.safe_write import check_output_file

    check_output_file(errors_path, [gold, pred, model])
    from nertag.hardware import use_threads

    use_threads(threads)
    tagger = _load_tagger(model, device or "cpu", precision=precision, style=style) if model else None
    progress = _progress_bar(" sentences") if tagger is not None else None
    try:
        report = score_files(
            gold, pred, tagger, mode, tag_column, errors_path, progress, parse_label_map(label_maps), breakdown=breakdown,
            encoding=encoding,
        )
    finally:
        if progress is not None:
            progress.close()
    from nertag.safe_write import naming_standard_output

    with naming_standard_output(sys.stdout):
        if as_json:
            click.echo(json.dumps(report.to_json(), indent=2))
            return
        click.echo(f"{'type':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        rows = sorted(report.per_type.items()) + [("micro avg", report.micro), ("macro avg", report.macro)]
        for name, s in rows:
            click.echo(f"{name:<12}{100 * s.precision:10.2f}{100 * s.recall:10.2f}{100 * s.f1:10.2f}{s.support:9d}")
        if report.breakdown is not None:
            click.echo(f"\n{report.breakdown.to_text()}", nl=False)


@main.command("convert")
@click.argument("source", metavar="IN", type=click.Path(allow_dash=True))
@click.argument("target", metavar="OUT", type=click.Path(allow_dash=True))
@click.option("--from", "from_format", required=True, type=click.Choice(["doccano", "label-studio", "spacy", "jsonl", "conll"]), help="doccano JSONL, Label Studio JSON export, spaCy-style JSONL (entities, Prodigy spans, displaCy ents), nertag's own JSONL, or CoNLL columns in any scheme.")
@click.option("--to", "to_format", required=True, type=click.Choice(["conll", "jsonl"]), help="conll: `token tag` lines, a blank line after each document; jsonl: nertag's records with character offsets.")
@click.option("--scheme", type=click.Choice(["BIO", "BIOES", "BMES", "BILOU", "IOB1"]), default="BIO", show_default=True, help="Tag scheme of --to conll.")
@click.option("--unit", type=click.Choice(["char", "word"]), default=None, help="Tokens: one character each (default for Chinese text) or nertag's words; from conll: tokens joined without or with spaces (default: char when nearly all are one character).")
@click.option("--tag-column", default=-1, show_default=True, help="--from conll: column of the tags, from 0; negative counts from the end.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the input; the output is UTF-8 (gb18030, gbk, big5, ... any Python knows).")
@friendly_errors
def convert_command(
    source: str, target: str, from_format: str, to_format: str, scheme: str, unit: str | None, tag_column: int, encoding: str
) -> None:
    """Convert annotations in IN to OUT (`-`: standard input or output). Overlapping, out-of-range or
    misaligned entities are reported with their line, and nothing is written."""
    from nertag.commands.convert import convert_file
    from nertag.schemes import Scheme

    done = convert_file(source, target, from_format, to_format, Scheme.parse(scheme), unit, tag_column, encoding)
    cut = f", {done.unit} tokens" if done.unit else ""
    click.echo(f"converted {done.documents} documents with {done.entities} entities ({from_format} to {to_format}{cut})", err=True)
    if done.altered:
        click.echo(
            f"nertag: warning: {done.source}:{done.first_altered}: {_this_and_more(done.altered, 'document')} line breaks, "
            "tabs, runs of spaces or control characters (between characters, any space), which a column file loses", err=True,
        )


def _this_and_more(count: int, noun: str) -> str:
    """The subject and verb of a warning about ``count`` inputs, the first of them named before it."""
    return f"this {noun} holds" if count == 1 else f"this and {count - 1} more {noun}s hold"


@main.command("export")
@click.argument("model")
@click.option("--format", "export_format", type=click.Choice(["onnx"]), default="onnx", show_default=True, help="onnx: the emission network as emissions.onnx, the CRF as crf.safetensors, with config.json and vocab.json.")
@click.option("--out", "-o", "out_dir", required=True, help="Folder to write: absent, empty, or an earlier nertag export (replaced whole).")
@click.option("--style", default=None, help="For a model trained with --style-dim: the style the export tags in, as `nertag tag --style` takes it. Default: the model's own.")
@friendly_errors
def export_command(model: str, export_format: str, out_dir: str, style: str | None) -> None:
    """Export MODEL (a built-in name or model directory) for another runtime; `nertag tag --model OUT`
    and nertag.load(OUT) then tag with it (onnxruntime, `pip install 'nertag[onnx]'`)."""
    from nertag.builtin import resolve_model
    from nertag.onnx_export import export_onnx

    written = export_onnx(resolve_model(model), out_dir, style=style)
    click.echo(f"wrote {export_format} export of {model} to {written}", err=True)


@main.command("average")
@click.argument("models", nargs=-1, required=True)
@click.option("--out", "-o", "out_dir", required=True, help="Model folder to write: absent, empty, or an earlier nertag model (replaced whole).")
@click.option("--weights-dtype", type=click.Choice(list(WEIGHTS_DTYPES)), default="float32", show_default=True, help="As for `nertag train`: int8 stores embedding tables as int8 rows.")
@friendly_errors
def average_command(models: tuple[str, ...], out_dir: str, weights_dtype: str) -> None:
    """Average the weights of MODELS (built-in names or folders) into one model of the same size and
    speed: a "model soup" of runs fine-tuned from one start with different --seed. The models must
    share config, labels and vocabularies; score the result on dev before you keep it."""
    from nertag.soup import average_models

    if len(models) < 2:
        raise click.UsageError("give at least two models to average")
    written = average_models(models, out_dir, weights_dtype)
    click.echo(f"wrote the average of {len(models)} models to {written}", err=True)


@main.command("serve")
@click.option("--model", "-m", default=None, help="Built-in model name or model directory; default: each text's language picks the built-in model.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 opens the page to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port (the log line says which).")
@click.option("--max-chars", type=click.IntRange(1), default=100_000, show_default=True, help="Longest text a request may send; longer ones are answered 413.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None)
@click.option("--precision", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto", show_default=True, help="auto: bfloat16 where the CPU or GPU has it natively (faster LSTMs, see BENCHMARKS.md), else float32.")
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads (default: the cores the machine's load leaves free).")
@click.option("--dictionary", "dictionary_path", type=click.Path(), default=None, help="Phrases to tag as given, as for `nertag tag`.")
@click.option("--rules", default=None, help="Built-in patterns, as for `nertag tag` (time,duration,money,percent,age or all).")
@click.option("--patterns", "patterns_path", type=click.Path(), default=None, help="Your own LABEL<TAB>regex patterns.")
@click.option("--policy", type=click.Choice(["dictionary", "model", "gaps"]), default="dictionary", show_default=True, help="Who wins where a match overlaps the model's entities, as for `nertag tag`.")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, help="Leave out entities whose CRF probability is lower (a request may send ?min_confidence=P).")
@click.option("--style", default=None, help=_STYLE_HELP)
@friendly_errors
def serve_command(
    model: str | None, host: str, port: int, max_chars: int, device: str | None, precision: str, threads: int | None,
    dictionary_path: str | None, rules: str | None, patterns_path: str | None, policy: str, min_confidence: float,
    style: str | None,
) -> None:
    """Serve a page to paste text into and see its entities highlighted, and POST /tag, which answers
    {"text": ...} with the JSON line `nertag tag` writes. Ctrl-C stops."""
    from nertag.api import extra_entities
    from nertag.hardware import use_threads
    from nertag.routing import ModelChoice
    from nertag.serve import listen, make_app, run

    if style is not None and model is None:
        raise click.UsageError("--style picks a style of one model; give it with --model")
    use_threads(threads)
    extra = extra_entities(dictionary_path, rules, patterns_path, policy)

    def load_with_extra(name: str) -> Any:
        tagger = _load_tagger(name, device or "cpu", precision, style=style)
        tagger.extra = extra
        return tagger

    models = ModelChoice(model, load_with_extra)
    models.load_named()
    app = make_app(models, max_chars, extra.labels() if extra is not None else (), min_confidence)
    sock = listen(host, port)
    try:
        run(app, sock, model)
    except (KeyboardInterrupt, Terminated):  # uvicorn has stopped gracefully and passes the signal on
        click.echo("nertag: server stopped", err=True)
    finally:
        sock.close()


@main.command("models")
@friendly_errors
def models_command() -> None:
    """List the built-in models with their labels, training corpus and test F1."""
    from nertag.builtin import DEFAULT_CHINESE, DEFAULT_OTHER, builtin_models
    from nertag.safe_write import naming_standard_output

    shipped = builtin_models()
    with naming_standard_output(sys.stdout):
        if not shipped:
            click.echo("no built-in models are installed")
            return
        for model in shipped.values():
            default = " (default for Chinese)" if model.name == DEFAULT_CHINESE else ""
            default = " (default for other text)" if model.name == DEFAULT_OTHER else default
            click.echo(f"{model.name}{default}")
            click.echo(f"  labels:  {', '.join(model.labels)}")
            click.echo(f"  corpus:  {model.corpus}")
            click.echo(f"  test F1: {100 * model.test_f1:.2f} ({model.test_split})")
            if model.notes:
                click.echo(f"  notes:   {model.notes}")


if __name__ == "__main__":
    main()
