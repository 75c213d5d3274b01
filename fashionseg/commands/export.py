"""`fashionseg export <run> --format torchscript|export|onnx|openvino|hf|space [--out PATH] [--with-examples]`: the trained
model as one standalone file plus a JSON of the preprocessing it expects, or as a Hugging Face-style model folder
(`hf`) or a ready Hugging Face Space (`space`)."""
from fashionseg.utils.console import console as make_console

FORMATS = "torchscript, export, onnx, openvino, hf or space"
FOLDERS = ("hf", "space")  # formats written as a folder


def add_parser(sub):
    p = sub.add_parser("export", help="write a run's model as a standalone TorchScript, torch.export or ONNX file, "
                                      "a Hugging Face model folder or a Space")
    p.add_argument("run", help="run folder (holds config.json, data.json, model.pth)")
    p.add_argument("--format", default="torchscript", metavar="FORMAT",
                   help=f"{FORMATS}: a TorchScript .pt (torch.jit.load), a torch.export .pt2 "
                        "(torch.export.load) or an .onnx (onnxruntime) file; openvino: OpenVINO's IR, model.xml with its "
                        "model.bin beside it; hf: a model folder with model.safetensors, "
                        "config.json and a model card; space: a Gradio app folder for a Hugging Face Space "
                        "(default: torchscript)")
    p.add_argument("--out", metavar="PATH", help="the file to write (default: RUN/export/model.<pt|pt2|onnx|xml>), the "
                                                 "preprocessing JSON beside it named FILE.json; for hf and space a new "
                                                 "or empty folder (default: RUN/export/<hf|space>)")
    p.add_argument("--int8", action="store_true",
                   help="with --format onnx: an INT8 model (ONNX Runtime static quantisation calibrated on the run's "
                        "training images), accepted when at least 95%% of its labels on test images agree with the "
                        "float model's (default name: model.int8.onnx)")
    p.add_argument("--with-examples", action="store_true",
                   help="hf and space: also copy the figures and example images that show data items (left out by "
                        "default: nothing of the training data leaves unless asked)")
    p.set_defaults(func=export)


def export(args):
    from fashionseg.errors import FashionsegError

    console = make_console()
    if args.int8 and args.format != "onnx":
        raise FashionsegError(f"--int8 quantises an ONNX model; use --format onnx (not {args.format})")
    if args.format in FOLDERS:
        return export_folder(args, console)
    from fashionseg.infer.export import export_int8, export_run

    if args.int8:
        with console.status(f"exporting {args.run} as INT8 ONNX"):
            out, meta, agreement = export_int8(args.run, args.out)
        console.print(f"wrote {out} and its preprocessing {meta.name} ({agreement:.2%} of its test labels agree "
                      "with the float model's)", highlight=False, soft_wrap=True)
        return
    with console.status(f"exporting {args.run} as {args.format}"):
        out, meta, diff = export_run(args.run, args.format, args.out)
    console.print(f"wrote {out} and its preprocessing {meta.name} (outputs within {diff:.1g} of the run's model)",
                  highlight=False, soft_wrap=True)


def export_folder(args, console):
    from pathlib import Path

    from fashionseg.infer.demo import check_gradio
    from fashionseg.infer.model_folder import export_model_folder
    from fashionseg.infer.space import export_space

    if args.format == "space":
        check_gradio()
    out = Path(args.out) if args.out else Path(args.run) / "export" / args.format
    write, kind = (export_space, " --repo-type space") if args.format == "space" else (export_model_folder, "")
    with console.status(f"exporting {args.run} as a {args.format} folder"):
        folder, figures = write(args.run, out, args.with_examples)
    console.print(f"wrote {folder} ({len(figures)} figures); share it with `hf upload ORG/NAME {folder}{kind}`",
                  highlight=False, soft_wrap=True)
