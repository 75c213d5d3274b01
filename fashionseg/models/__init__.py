"""Models and what they are made of: layers shared by the built-in architectures (`layers`), losses by
name (`losses`), weights in and out (`weights`), a first convolution started as whitening filters of the data (`whitening`), a
model run at one input size (`resize`)."""
