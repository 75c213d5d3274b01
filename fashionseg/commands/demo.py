"""`fashionseg demo RUN [--port P] [--host H]`: a Gradio app in the browser for a run folder, a model folder or
`hf-hub:ORG/NAME` (the `demo` extra); it serves on 127.0.0.1 unless --host names another interface."""
from fashionseg.utils.console import console as make_console


def add_parser(sub):
    p = sub.add_parser("demo", help="open a browser demo of a trained model (Gradio): upload an image, see the prediction")
    p.add_argument("run", help="run folder, model folder (fashionseg export --format hf) or hf-hub:ORG/NAME")
    p.add_argument("--port", type=int, default=7860, help="port to serve on (default: 7860)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to serve on (default: 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)")
    p.set_defaults(func=demo)


def demo(args):
    from fashionseg.infer.demo import check_gradio, launch
    from fashionseg.infer.trained import load_run

    check_gradio()
    trained = load_run(args.run)
    make_console().print(f"demo of {args.run} on http://{args.host}:{args.port} (Ctrl+C stops it)", highlight=False,
                         soft_wrap=True)
    launch(trained, args.host, args.port)
