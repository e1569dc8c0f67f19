"""Prefill and decode tokens/s of transformers' GptOssForCausalLM on torch CPU,
measured the way the `engine_bench` example measures the engine: the same prompts
(prompt[b][i] = (b*7919 + i*104729) % vocab), batch sizes, prompt length and
decode steps, f32, eager attention, MXFP4 experts dequantized at load.

Usage: python transformers_bench.py --model DIR --name NAME [--batches 1,8,64]
       [--prompt-len 128] [--decode-steps 32] [--threads N]
"""
import argparse
import time

import torch
from transformers import AutoModelForCausalLM, Mxfp4Config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--decode-steps", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    model = AutoModelForCausalLM.from_pretrained(
        a.model,
        dtype=torch.float32,
        attn_implementation="eager",
        quantization_config=Mxfp4Config(dequantize=True),
    ).eval()
    vocab = model.config.vocab_size
    with torch.inference_mode():  # warm-up, not timed (the engine needs none)
        out = model(input_ids=torch.tensor([[1, 2, 3, 4]]), use_cache=True)
        model(input_ids=torch.tensor([[5]]), past_key_values=out.past_key_values, use_cache=True)
    for batch in [int(b) for b in a.batches.split(",")]:
        ids = torch.tensor(
            [[(b * 7919 + i * 104729) % vocab for i in range(a.prompt_len)] for b in range(batch)]
        )
        mask = torch.ones_like(ids)
        with torch.inference_mode():
            t = time.perf_counter()
            out = model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1)
            prefill = time.perf_counter() - t
            past = out.past_key_values
            nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
            t = time.perf_counter()
            for _ in range(a.decode_steps):
                mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype)], dim=1)
                out = model(input_ids=nxt, attention_mask=mask, past_key_values=past,
                            use_cache=True, logits_to_keep=1)
                past = out.past_key_values
                nxt = out.logits[:, -1, :].argmax(-1, keepdim=True)
            decode = time.perf_counter() - t
        print(
            f"transformers\t{a.name}\tbatch {batch:>3}\tprefill {batch * a.prompt_len / prefill:>10.1f} tok/s"
            f"\tdecode {batch * a.decode_steps / decode:>9.1f} tok/s",
            flush=True,
        )


if __name__ == "__main__":
    main()
