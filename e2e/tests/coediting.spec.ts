import { expect, test } from '../support/fixtures.ts'

const ALICE_WORDS = ' the quick brown fox jumps'
const BOB_WORDS = ' over the lazy dog, twice'
/** Slow enough that the two people's keystrokes interleave on the wire. */
const KEY_DELAY_MS = 25

test("[R1][R4] two editors type concurrently and converge; each sees the other's caret name", async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await Promise.all([alice.open(doc.editUrl), bob.open(doc.editUrl)])

  // One line each, so each person types at their own place and each input stays in one piece;
  // two carets at the same spot would interleave keystrokes, which is correct but not checkable.
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Alice:')
  await alice.page.keyboard.press('Enter')
  await alice.editor.type('Bob:')
  await expect.poll(() => bob.editor.text()).toBe('Alice:\nBob:')

  await alice.editor.placeCaretAtEndOfBlock(0)
  await bob.editor.placeCaretAtEndOfBlock(1)
  await Promise.all([
    alice.editor.type(ALICE_WORDS, { delayMs: KEY_DELAY_MS }),
    bob.editor.type(BOB_WORDS, { delayMs: KEY_DELAY_MS }),
  ])

  const converged = `Alice:${ALICE_WORDS}\nBob:${BOB_WORDS}`
  await expect.poll(() => alice.editor.text()).toBe(converged)
  await expect.poll(() => bob.editor.text()).toBe(converged)

  await expect.poll(() => alice.editor.caretNames()).toEqual(['Bob'])
  await expect.poll(() => bob.editor.caretNames()).toEqual(['Alice'])
  await expect(alice.editor.presenceUsers).toHaveCount(2)
  await expect(bob.editor.presenceUsers).toHaveCount(2)
  expect(await alice.editor.presenceNames()).toEqual(['Alice', 'Bob'])
  expect(await bob.editor.presenceNames()).toEqual(['Bob', 'Alice'])
})
