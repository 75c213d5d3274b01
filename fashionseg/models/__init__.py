"""Models and what they are made of: layers shared by the built-in architectures (`layers`), losses by
name (`losses`), weights in and out (`weights`), a model run at one input size (`resize`)."""
