"""tiktoken's side of the tokenizer benchmark: same corpora, same local rank files, no network."""
import sys, time
import tiktoken
from tiktoken.load import load_tiktoken_bpe

# The patterns exactly as shared/tokenizers/README.md gives them (tiktoken 0.14's own).
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
O200K = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""", r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""", r"""\s*[\r\n]+""", r"""\s+(?!\S)""", r"""\s+""",
])

ranks_dir, corpus_dir = sys.argv[1], sys.argv[2]
encodings = {
    "cl100k_base": tiktoken.Encoding("cl100k_base", pat_str=CL100K,
                                     mergeable_ranks=load_tiktoken_bpe(f"{ranks_dir}/cl100k_base.tiktoken"), special_tokens={}),
    "o200k_base": tiktoken.Encoding("o200k_base", pat_str=O200K,
                                    mergeable_ranks=load_tiktoken_bpe(f"{ranks_dir}/o200k_base.tiktoken"), special_tokens={}),
}
for corpus in ["prose", "code", "multilingual"]:
    text = open(f"{corpus_dir}/{corpus}.txt", encoding="utf-8", newline="").read()
    size = len(text.encode("utf-8"))
    for name, enc in encodings.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            tokens = len(enc.encode_ordinary(text))
            best = min(best, time.perf_counter() - start)
        print(f"tiktoken {corpus} {name} bytes={size} tokens={tokens} mbps={size / 1e6 / best:.2f}")
