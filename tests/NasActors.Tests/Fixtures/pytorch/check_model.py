#!/usr/bin/python3
"""What the exported PyTorch module does in PyTorch itself, for the tests (Debian's python3-torch).

  check_model.py params MODEL.py [MODEL.py ...]      -> {"params": [N, ...], "declared": [PARAMETERS, ...]}
  check_model.py logits MODEL_DIR BATCH.f32 N        -> {"logits": [[...], ...]} (eval mode, strict load)
  check_model.py accuracy MODEL_DIR IMAGES.gz LABELS.gz -> {"accuracy": a} (IDX files, MEAN/STD of the module)
"""
import gzip
import importlib.util
import json
import os
import struct
import sys

import torch


def load_module(path):
    spec = importlib.util.spec_from_file_location("exported_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trained(model_dir):
    module = load_module(os.path.join(model_dir, "model.py"))
    model = module.build_model()
    state = torch.load(os.path.join(model_dir, "model.pt"), map_location="cpu")
    model.load_state_dict(state, strict=True)
    model.eval()
    return module, model


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(count, 1, rows, cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def main():
    mode = sys.argv[1]
    torch.manual_seed(0)
    if mode == "params":
        modules = [load_module(path) for path in sys.argv[2:]]
        print(json.dumps({"params": [sum(p.numel() for p in m.build_model().parameters()) for m in modules],
                          "declared": [m.PARAMETERS for m in modules]}))
    elif mode == "logits":
        module, model = trained(sys.argv[2])
        n = int(sys.argv[4])
        raw = open(sys.argv[3], "rb").read()
        batch = torch.frombuffer(bytearray(raw), dtype=torch.float32).view(n, module.CHANNELS, module.IMAGE_SIZE, module.IMAGE_SIZE)
        with torch.no_grad():
            print(json.dumps({"logits": model(batch).tolist()}))
    elif mode == "accuracy":
        module, model = trained(sys.argv[2])
        images, labels = idx(sys.argv[3]), idx(sys.argv[4])
        mean = torch.tensor(module.MEAN).view(1, -1, 1, 1)
        std = torch.tensor(module.STD).view(1, -1, 1, 1)
        correct = 0
        with torch.no_grad():
            for i in range(0, len(labels), 250):
                x = (images[i:i + 250].float() / 255 - mean) / std
                correct += (model(x).argmax(1) == labels[i:i + 250]).sum().item()
        print(json.dumps({"accuracy": correct / len(labels)}))
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
