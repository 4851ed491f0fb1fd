// The files the binary carries inside itself (the tokenizer rank files and the price table), so
// a copied binary needs no resource bundle. `.incbin` finds them through the target's `data`
// include path.
#if defined(__APPLE__)
#define SYMBOL(name) _##name
#define READ_ONLY .section __TEXT,__const
#else
#define SYMBOL(name) name
#define READ_ONLY .section .rodata
#endif

#define EMBED(name, file)            \
    .globl SYMBOL(name##_start);     \
    .balign 16;                      \
    SYMBOL(name##_start):            \
    .incbin file;                    \
    .globl SYMBOL(name##_end);       \
    SYMBOL(name##_end):              \
    .byte 0

    READ_ONLY
    EMBED(switchyard_cl100k_base, "cl100k_base.tiktoken")
    EMBED(switchyard_o200k_base, "o200k_base.tiktoken")
    EMBED(switchyard_prices, "prices.yaml")

#if !defined(__APPLE__)
    .section .note.GNU-stack, "", @progbits
#endif
