"""The tiny study's ten generated languages.

grammar   the invented languages (lexicons, word order, agreement) and the items drawn from
          their shared meanings: sentences, minimal pairs, cloze and question items
writers   seeded corpora and benchmark files in the real datasets' schemas
"""
