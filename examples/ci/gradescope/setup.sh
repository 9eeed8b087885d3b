#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (Ubuntu).
# The autograder zip holds this file, run_autograder and key/ (the blank
# exercises, which are the key).
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip
pip3 install backprop-cli
