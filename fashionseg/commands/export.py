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
    p.set_defaults(func=export)


def export(args):
    from fashionseg.infer.export import export_run

    console = make_console()
    with console.status(f"exporting {args.run} as {args.format}"):
        out, meta, diff = export_run(args.run, args.format, args.out)
    console.print(f"wrote {out} and its preprocessing {meta.name} (outputs within {diff:.1g} of the run's model)",
                  highlight=False, soft_wrap=True)
