#!/usr/bin/env python3
"""The PyTorch side of bench/gpu.sh: training images/s of the same network, on the same GPU.

  pytorch_child.py --model MODEL.py --batch 128 --precision fp32|bf16 [--channels-last]
  pytorch_child.py --timm nasnetalarge --image 331 --batch 32 --precision bf16

--model takes the module `nas model --pytorch MODEL.py` writes (so both sides train the very same
layers and parameter count); --timm takes a timm model. A step is what nas times: forward,
cross-entropy, backward, gradient-norm clip at 5, SGD (momentum 0.9, weight decay 3e-4), and a
wait for the loss. bf16 uses autocast (what PyTorch users reach for). Prints one JSON line.
"""
import argparse
import importlib.util
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_module(path):
    """A network nas exported (`nas model --pytorch FILE`): the very layers nas builds."""
    spec = importlib.util.spec_from_file_location("nas_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--timm")
    ap.add_argument("--image", type=int, default=32)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--device", default="cuda:0")
    a = ap.parse_args()

    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    if a.model:
        module = load_module(a.model)
        model, image, channels, classes = module.build_model(), module.IMAGE_SIZE, module.CHANNELS, len(module.CLASSES)
        name = module.PLAN["name"]
    else:
        import timm
        model, image, channels, name = timm.create_model(a.timm, pretrained=False), a.image, 3, a.timm
        classes = a.classes or model.num_classes
    params = sum(p.numel() for p in model.parameters())
    device = torch.device(a.device)
    model = model.to(device).train()
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    x = torch.randn(a.batch, channels, image, image, device=device)
    if a.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (a.batch,), device=device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.precision)
    cuda = device.type == "cuda"
    scaler = torch.cuda.amp.GradScaler(enabled=a.precision == "fp16")
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out = model(x)
            if isinstance(out, tuple):
                loss = F.cross_entropy(out[0].float(), y) + 0.4 * F.cross_entropy(out[1].float(), y)
            else:
                loss = F.cross_entropy(out.float(), y)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        scaler.step(opt)
        scaler.update()
        return loss.item()

    for _ in range(a.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    sync()
    seconds = time.perf_counter() - start
    print(json.dumps({"side": "pytorch", "network": name, "params": params, "batch": a.batch, "precision": a.precision,
                      "channels_last": a.channels_last, "steps": a.steps, "images_per_s": round(a.batch * a.steps / seconds, 1),
                      "device": str(device), "torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}))


if __name__ == "__main__":
    main()
