#!/bin/sh
# usage: rnn_predicted.sh SYMGRAD EXAMPLE-DIR
# Trains lecture 12's hello RNN as the course does from PyTorch's initial
# parameters, then checks the predicted string against PyTorch's
# (torch_predicted.txt, tests/torch/rnn_reference.py).
symgrad=$1
d=$2
params=$(mktemp)
trap 'rm -f "$params"' EXIT
"$symgrad" train "$d/hello.sg" --data "$d/hello.csv" --load "$d/torch_init.params" \
	--batch all --optimizer adam --lr 0.1 --epochs 100 --save "$params" --quiet || exit 1
got=$(sh "$d/predicted.sh" "$symgrad" "$params") || exit 1
want="Predicted string: $(cat "$d/torch_predicted.txt")"
echo "$got (PyTorch: $want)"
[ "$got" = "$want" ]
