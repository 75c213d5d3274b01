"""The command line: through subprocesses as a user runs it, and in-process where that is enough."""
import dataclasses
import importlib
import io
import json
import os
import shlex
import subprocess
import sys
from functools import partial

import pluggy
import pytest
from helpers.data import REPO

import fashionseg
from fashionseg import Architecture, FashionsegError, Recipe, hookimpl
from fashionseg.cli import build_parser
from fashionseg.cli import main as cli_main
from fashionseg.commands import list as list_command
from fashionseg.commands._options import apply_overrides
from fashionseg.commands.lr_find import NOT_USED, suggested_command
from fashionseg.recipe.schema import OPTIMIZERS, SCHEDULES
from fashionseg.registry import hookspecs
from fashionseg.registry import plugins as registry_module


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "fashionseg.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=600)


def subcommand(name: str):
    return build_parser()._subparsers._group_actions[0].choices[name]


@pytest.mark.subprocess
def test_list_shows_every_kind_with_task_plugin_and_description():
    out = cli("list").stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows and all(len(row) == 5 for row in rows)  # piped: plain rows, one per name
    assert ["architecture", "seed000-cnn", "classification", "architectures"] in [row[:4] for row in rows]
    assert ["task", "segmentation", "segmentation", "segmentation"] in [row[:4] for row in rows]
    assert {"task", "architecture", "metric", "dataset", "recipe"} <= {row[0] for row in rows}
    for needle in ("per-class-accuracy", "fashion-fast", "Two conv-BN-ReLU-pool"):
        assert needle in out
    only = cli("list", "architectures", "basenet*").stdout
    assert "basenet-improved" in only and "seed000-cnn" not in only and "metric" not in only


@pytest.mark.subprocess
def test_plugins_lists_versions_and_hooks():
    out = cli("plugins").stdout
    assert "architectures" in out and "fashionseg_architectures" in out and "0.1.0" in out
    assert "fashionseg_tasks" in out


def in_process(capsys, *args):
    """`fashionseg ARGS` through the CLI's `main` in this process: what `cli` returns, without starting a
    process that imports torch (tests/commands/test_errors.py starts one for a train error that does)."""
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.mark.parametrize("args, message, how", [
    pytest.param(["train", "seed00"], "unknown recipe 'seed00'. Did you mean 'seed000'?", cli,
                 marks=pytest.mark.subprocess, id="recipe"),
    pytest.param(["train", "seed000", "--arch", "basenet-improve"],
                 "unknown architecture 'basenet-improve'. Did you mean", in_process, id="arch"),
    pytest.param(["train", "seed000", "--epochs", "0"], "epochs must be at least 1", in_process, id="epochs"),
    pytest.param(["list", "archs"], "cannot list 'archs'", cli, marks=pytest.mark.subprocess, id="list"),
])
def test_user_errors_are_one_line_with_exit_code_2(args, message, how, tmp_path, capsys):
    run = partial(in_process, capsys) if how is in_process else cli
    res = run(*args, "--runs-dir", str(tmp_path)) if args[0] == "train" else run(*args)
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not list(tmp_path.glob("*"))  # rejected before any run folder was made


@pytest.mark.slow
@pytest.mark.subprocess
def test_train_and_recipe_script_run_the_same_recipe(tmp_path, fashion_mnist_dir):
    overrides = ["--epochs", "1", "--limit", "2000", "--eval-limit", "300", "--lr", "1e-2", "--no-figures",
                 "--runs-dir", str(tmp_path)]
    # both at once: each process spends its first seconds importing torch and fastai
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "cwd": REPO}
    train = subprocess.Popen([sys.executable, "-m", "fashionseg.cli", "train", "basenet-improved", *overrides,
                              "--set", "data_options.augment=flip"], env={**os.environ, "COLUMNS": "200"}, **pipes)
    script = subprocess.Popen([sys.executable, "recipes/basenet_improved.py", *overrides], **pipes)
    (out, err), (_, script_err) = train.communicate(timeout=600), script.communicate(timeout=600)
    assert train.returncode == 0, err
    assert "basenet-improved: test set" in out and "Per class" in out
    assert script.returncode == 0, script_err
    runs = sorted(tmp_path.iterdir())
    assert len(runs) == 2
    configs = sorted((json.loads((r / "config.json").read_text()) for r in runs), key=lambda c: not c["data_options"])
    assert configs[0]["data_options"] == {"augment": "flip"} and configs[1]["data_options"] == {}
    assert all(c["epochs"] == 1 and c["limit"] == 2000 and c["eval_limit"] == 300 and c["valid"] == "0.1"
               for c in configs)
    for r in runs:
        metrics = json.loads((r / "metrics.json").read_text())
        assert metrics["accuracy"] > 0.3 and "valid_accuracy" in metrics


@pytest.mark.slow
@pytest.mark.subprocess
def test_lr_find_prints_suggestions_saves_plot_and_says_how_to_use(tmp_path, fashion_mnist_dir):
    (tmp_path / "cwd").mkdir()
    res = cli("lr-find", "fashion-fast", "--iters", "30", "--limit", "4000", "--runs-dir", str(tmp_path / "runs"),
              cwd=tmp_path / "cwd")
    assert res.returncode == 0, res.stderr
    assert not list((tmp_path / "cwd").iterdir())  # fastai's scratch models/ folder is not left behind
    assert "valley" in res.stdout and "steep" in res.stdout and "--lr" in res.stdout
    (run,) = (tmp_path / "runs").iterdir()
    suggestions = json.loads((run / "lr_find.json").read_text())["suggestions"]
    assert set(suggestions) == {"valley", "slide", "minimum", "steep"}
    assert all(1e-7 < v < 10 for v in suggestions.values())
    assert (run / "figures" / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- fast, in-process checks
@pytest.mark.subprocess
def test_help_and_version_import_neither_torch_nor_fastai():
    code = """if True:
        import sys
        from fashionseg.cli import build_parser, main
        parser = build_parser()
        parser.format_help()
        for command in parser._subparsers._group_actions[0].choices.values():
            command.format_help()
        try:
            main(["--version"])
        except SystemExit:
            pass
        print(sorted(m for m in ("torch", "fastai", "torchvision", "timm") if m in sys.modules))
    """
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [f"fashionseg {fashionseg.__version__}", "[]"]


@pytest.mark.subprocess
def test_version_option():
    res = cli("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"fashionseg {fashionseg.__version__}"


def test_package_names_that_need_torch_load_on_first_use():
    assert fashionseg.Data.__module__ == "fashionseg.data"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fashionseg.nope  # noqa: B018


def recipe_option_actions(parser) -> dict:
    group = next(g for g in parser._action_groups if g.title.startswith("recipe overrides"))
    return {a.dest: a for a in group._group_actions if a.dest != "set"}


def test_recipe_options_are_generated_from_the_recipe_fields():
    train = subcommand("train")
    actions = recipe_option_actions(train)
    # tune_space is given to `tune` as --space
    assert set(actions) == {f.name for f in dataclasses.fields(Recipe)} - {"name", "description", "tune_space"}
    for name, action in actions.items():
        assert action.option_strings[0] == "--" + name.replace("_", "-")
        assert "default: the recipe's" in action.help and len(action.help) > 40
    assert actions["schedule"].choices == SCHEDULES and actions["opt"].choices == OPTIMIZERS
    assert actions["epochs"].type is int and actions["lr"].type is float
    assert "--no-channels-last" in actions["channels_last"].option_strings
    args = build_parser().parse_args(["train", "x", "--label-smoothing", "0.1", "--eval-limit", "64", "--channels-last",
                                      "--data-options", "{'augment': 'flip'}", "--metrics", "accuracy,error-rate"])
    r = apply_overrides(Recipe(name="x", dataset="d", arch="a"), args)
    assert (r.label_smoothing, r.eval_limit, r.channels_last) == (0.1, 64, True)
    assert r.data_options == {"augment": "flip"} and r.metrics == ["accuracy", "error-rate"]
    assert Recipe(name="x", dataset="d", arch="a").keep_best == 0  # best-k checkpoints only when asked


def test_commands_offer_only_the_options_that_apply_to_them(capsys):
    assert set(recipe_option_actions(subcommand("lr-find"))) == set(recipe_option_actions(subcommand("train"))) - NOT_USED
    assert set(recipe_option_actions(subcommand("sweep"))) == set(recipe_option_actions(subcommand("train")))
    for option in ("--keep-best", "--epochs", "--track"):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["lr-find", "x", option, "3"])
        assert exc.value.code == 2
    assert "unrecognized arguments: --keep-best" in capsys.readouterr().err


def test_debug_goes_before_or_after_the_command():
    parse = build_parser().parse_args
    assert parse(["train", "x"]).debug is False
    assert parse(["--debug", "train", "x"]).debug is True
    assert parse(["train", "x", "--debug"]).debug is True
    assert parse(["list", "--debug"]).debug is True
    assert cli_main(["train", "no-such-recipe"]) == 2
    with pytest.raises(FashionsegError, match="unknown recipe"):
        cli_main(["train", "no-such-recipe", "--debug"])


def test_lr_find_suggests_a_train_command_with_every_override(tmp_path):
    argv = ["lr-find", "fashion-fast", "--iters", "30", "--limit", "4000", "--no-channels-last", "--valid", "0.1",
            "--set", "data_options.augment=flip", "--set", "arch_options.note=two words", "--set", "lr=1",
            "--runs-dir", str(tmp_path)]
    args = build_parser().parse_args(argv)
    command = suggested_command(args, 3.2e-3)
    words = shlex.split(command)
    assert words[:3] == ["fashionseg", "train", "fashion-fast"] and words[-2:] == ["--lr", "3.20e-03"]
    assert "--set data_options.augment=flip" in command and "'arch_options.note=two words'" in command
    assert "--iters" not in words and "lr=1" not in words
    base = Recipe(name="x", dataset="d", arch="a")
    again = apply_overrides(base, build_parser().parse_args(words[1:]))
    assert again == apply_overrides(base, args).override(lr=3.2e-3)
    assert build_parser().parse_args(words[1:]).runs_dir == str(tmp_path)


class LongNames:
    """A plugin with a long architecture name and a description longer than a terminal line."""

    PLUGIN = "long-names"
    NAME = "an-architecture-with-a-much-longer-name"

    @hookimpl
    def fashionseg_architectures(self):
        return [Architecture(self.NAME, lambda n_classes, n_in: None, task="classification",
                             description="words " * 40)]


@pytest.fixture
def long_names_registry(monkeypatch):
    pm = pluggy.PluginManager("fashionseg")
    pm.add_hookspecs(hookspecs)
    pm.register(LongNames(), name=LongNames.PLUGIN)
    pm.register(importlib.import_module("fashionseg_plugins.tasks.classification"), name="classification")
    monkeypatch.setattr(registry_module, "_default", registry_module.Registry(pm))


def test_list_prints_plain_rows_and_json_when_piped(long_names_registry, capsys):
    assert cli_main(["list", "architectures"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split("\t") == ["architecture", LongNames.NAME, "classification", LongNames.PLUGIN,
                                ("words " * 40).strip()]
    assert cli_main(["list", "architectures", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == LongNames.NAME and row["plugin"] == LongNames.PLUGIN


def test_list_in_a_narrow_terminal_never_breaks_a_name(long_names_registry):
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    console.print(list_command.table("architectures", list_command.component_rows("architecture", "*", None)))
    out = console.file.getvalue()
    assert LongNames.NAME in out and "words words" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.subprocess
def test_list_recipes_imports_no_torch_on_the_command_side():
    code = """if True:
        import sys, pluggy
        from fashionseg.registry import hookspecs, plugins as registry
        pm = pluggy.PluginManager("fashionseg")
        pm.add_hookspecs(hookspecs)
        registry._default = registry.Registry(pm)  # no plugins: what is left is the command's own imports
        from fashionseg.cli import main
        main(["list", "recipes"])
        print(sorted(m for m in ("torch", "fastai") if m in sys.modules))
    """
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[-1] == "[]" and any(line.startswith("recipe\tfashion-fast\t") for line in lines)



FINISHING = """
import atexit, sys, threading, time
from pathlib import Path
from fashionseg.cli import finish
atexit.register(lambda: Path(sys.argv[1], "handler").write_text("ran"))
threading.Thread(target=lambda: (time.sleep(0.3), Path(sys.argv[1], "thread").write_text("done"))).start()
sys.stdout.write("buffered, no newline")
finish(3)
"""


@pytest.mark.subprocess
def test_a_command_ends_after_its_threads_exit_handlers_and_output_with_its_exit_code(tmp_path):
    """`finish` skips only the interpreter's teardown: what a command started or wrote is complete."""
    done = subprocess.run([sys.executable, "-c", FINISHING, str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "buffered, no newline"
    assert (tmp_path / "thread").read_text() == "done" and (tmp_path / "handler").read_text() == "ran"


@pytest.mark.subprocess
def test_a_command_under_cprofile_still_writes_the_profile(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(tmp_path / "p.pstats"), "-m", "fashionseg",
                           "list", "recipes"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "p.pstats").stat().st_size > 0


def test_a_recipe_main_in_an_interactive_session_raises_system_exit(monkeypatch):
    """A notebook or REPL calling `finish` (a recipe's `main`) gets SystemExit, not its process ended."""
    from fashionseg.cli import finish

    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    with pytest.raises(SystemExit) as exc:
        finish(0)
    assert exc.value.code == 0
