"""`fashionseg export <run> --format torchscript|export|onnx [--out FILE]`: the trained model as one
standalone file, plus a JSON of the preprocessing it expects."""
from fashionseg.utils.console import console as make_console

FORMATS = "torchscript, export or onnx"


def add_parser(sub):
    p = sub.add_parser("export", help="write a run's model as a standalone TorchScript, torch.export or ONNX file")
    p.add_argument("run", help="run folder (holds config.json, data.json, model.pth)")
    p.add_argument("--format", default="torchscript", metavar="FORMAT",
                   help=f"{FORMATS}: a TorchScript .pt (torch.jit.load), a torch.export .pt2 "
                        "(torch.export.load) or an .onnx (onnxruntime) file (default: torchscript)")
    p.add_argument("--out", metavar="FILE", help="the file to write (default: RUN/export/model.<pt|pt2|onnx>); "
                                 "the preprocessing JSON goes beside it, named FILE.json")
    p.add_argument("--int8", action="store_true",
                   help="with --format onnx: an INT8 model (ONNX Runtime static quantisation calibrated on the run's "
                        "training images), accepted when at least 95%% of its labels on test images agree with the "
                        "float model's (default name: model.int8.onnx)")
    p.set_defaults(func=export)


def export(args):
    from fashionseg.errors import FashionsegError
    from fashionseg.infer.export import export_int8, export_run

    console = make_console()
    if args.int8:
        if args.format != "onnx":
            raise FashionsegError(f"--int8 quantises an ONNX model; use --format onnx (not {args.format})")
        with console.status(f"exporting {args.run} as INT8 ONNX"):
            out, meta, agreement = export_int8(args.run, args.out)
        console.print(f"wrote {out} and its preprocessing {meta.name} ({agreement:.2%} of its test labels agree "
                      "with the float model's)", highlight=False, soft_wrap=True)
        return
    with console.status(f"exporting {args.run} as {args.format}"):
        out, meta, diff = export_run(args.run, args.format, args.out)
    console.print(f"wrote {out} and its preprocessing {meta.name} (outputs within {diff:.1g} of the run's model)",
                  highlight=False, soft_wrap=True)
