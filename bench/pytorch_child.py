#!/usr/bin/env python3
"""The PyTorch side of bench/gpu.sh: training images/s of the same network, on the same GPU.

  pytorch_child.py --plan PLAN.json --batch 128 --precision fp32|bf16 [--channels-last]
  pytorch_child.py --timm nasnetalarge --image 331 --batch 32 --precision bf16

--plan builds the network layer by layer from `nas model --plan` (so both sides train the very
same layers and parameter count); --timm takes a timm model. A step is what nas times: forward,
cross-entropy, backward, gradient-norm clip at 5, SGD (momentum 0.9, weight decay 3e-4), and a
wait for the loss. bf16 uses autocast (what PyTorch users reach for). Prints one JSON line.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def layer(d):
    k = d["kind"]
    if k == "relu":
        return nn.ReLU()
    if k == "conv":
        return nn.Conv2d(d["in"], d["out"], (d["kernel_h"], d["kernel_w"]), stride=(d["stride_h"], d["stride_w"]),
                         padding=(d["pad_h"], d["pad_w"]), dilation=d["dilation"], groups=d["groups"], bias=False)
    if k == "valid_conv":
        return nn.Conv2d(d["in"], d["out"], d["kernel"], stride=d["stride"], bias=False)
    if k == "batch_norm":
        return nn.BatchNorm2d(d["channels"], eps=1e-3, momentum=0.1)
    if k == "pool":
        p = d["kernel"] // 2
        return nn.MaxPool2d(d["kernel"], d["stride"], p) if d["max"] else nn.AvgPool2d(d["kernel"], d["stride"], p, count_include_pad=False)
    if k == "valid_avg_pool":
        return nn.AvgPool2d(d["kernel"], d["stride"])
    if k == "factorized_reduce":
        return FactorizedReduce(d["in"], d["out"])
    if k == "global_avg_pool":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if k == "dropout":
        return nn.Dropout(d["probability"]) if d["probability"] > 0 else nn.Identity()
    if k == "linear":
        return nn.Sequential(nn.Flatten(), nn.Linear(d["in"], d["out"]))
    raise ValueError(f"unknown layer kind {k}")


def seq(layers):
    return nn.Sequential(*[layer(d) for d in layers]) if layers else nn.Identity()


class FactorizedReduce(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        half = c_out // 2
        self.path1 = nn.Conv2d(c_in, half, 1, stride=2, bias=False)
        self.path2 = nn.Conv2d(c_in, c_out - half, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.1)

    def forward(self, x):
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.path1(x), self.path2(shifted)], 1))


class Cell(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.inputs = (d["input_index"], d["prev_input_index"])
        self.hi, self.prev = seq(d["hi_adjust"]), seq(d["prev_adjust"])
        self.ops = nn.ModuleList()
        self.wiring = []
        for b in d["blocks"]:
            self.ops.append(seq(b["a"]["layers"]))
            self.ops.append(seq(b["b"]["layers"]))
            self.wiring.append((b["a"]["input"], b["b"]["input"], b["combine"]))
        self.reduce = nn.ModuleList(seq(o["reduce"]) for o in d["outputs"])
        self.outputs = [o["state"] for o in d["outputs"]]

    def forward(self, hi, prev):
        states = [self.hi(hi), self.prev(prev)]
        for k, (a, b, combine) in enumerate(self.wiring):
            x, y = self.ops[2 * k](states[a]), self.ops[2 * k + 1](states[b])
            states.append(x + y if combine == "add" else torch.cat([x, y], 1))
        return torch.cat([r(states[s]) for r, s in zip(self.reduce, self.outputs)], 1)


class PlannedNetwork(nn.Module):
    def __init__(self, plan):
        super().__init__()
        self.stem = seq(plan["stem"])
        self.cells = nn.ModuleList(Cell(c) for c in plan["cells"])
        self.head = seq(plan["head"])
        aux = plan.get("aux")
        self.aux_after = aux["after_cell"] if aux else None
        self.aux = seq(aux["layers"]) if aux else None

    def forward(self, x):
        outputs = [self.stem(x)]
        for cell in self.cells:
            outputs.append(cell(outputs[cell.inputs[0]], outputs[cell.inputs[1]]))
        logits = self.head(outputs[-1])
        # The auxiliary head (as nas trains it, weight 0.4) reads cell after_cell's output.
        return (logits, self.aux(outputs[self.aux_after + 1])) if self.aux is not None and self.training else logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan")
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
    if a.plan:
        plan = json.load(open(a.plan))
        model, image, classes, name = PlannedNetwork(plan), plan["input"]["height"], plan["head"][-1]["out"], plan["name"]
        channels = plan["input"]["channels"]
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
