import { describe, expect, it } from 'vitest'
import {
  PALETTE,
  colorForName,
  distinctColor,
  editorIdentity,
  generatedName,
  loadIdentity,
  normalizeName,
  resolveIdentity,
  saveIdentity,
  searchWithoutName,
} from '../src/editor/identity.ts'
import { memoryStore } from './memoryStore.ts'

describe('identity', () => {
  it('normalizes names and rejects empty or overlong ones', () => {
    expect(normalizeName('  Ada   Lovelace ')).toBe('Ada Lovelace')
    expect(normalizeName('   ')).toBeNull()
    expect(normalizeName('x'.repeat(41))).toBeNull()
  })

  it('derives a stable #rrggbb colour from the name (CollaborationCaret ignores other forms)', () => {
    expect(colorForName('Alice')).toMatch(/^#[0-9a-f]{6}$/)
    expect(colorForName('Alice')).toBe(colorForName('Alice'))
  })

  it('remembers a saved identity', () => {
    const store = memoryStore()
    const saved = saveIdentity(store, 'Alice')
    expect(loadIdentity(store)).toEqual(saved)
  })

  it('treats missing, corrupt or invalid stored identities as none', () => {
    expect(loadIdentity(memoryStore())).toBeNull()
    expect(loadIdentity(memoryStore({ 'tandem.identity': '{not json' }))).toBeNull()
    expect(loadIdentity(memoryStore({ 'tandem.identity': '{"name":"  "}' }))).toBeNull()
  })

  it('replaces a stored colour that is not #rrggbb', () => {
    const store = memoryStore({ 'tandem.identity': '{"name":"Bob","color":"red"}' })
    expect(loadIdentity(store)).toEqual({ name: 'Bob', color: colorForName('Bob') })
  })

  it('lets ?name= override and be remembered, ignoring an invalid one', () => {
    const store = memoryStore()
    saveIdentity(store, 'Alice')
    expect(resolveIdentity('?name=Bob', store)?.name).toBe('Bob')
    expect(loadIdentity(store)?.name).toBe('Bob')
    expect(resolveIdentity('?name=%20', store)?.name).toBe('Bob')
  })

  it('[R58] an editor without a name gets a generated one, remembered as generated until a name is chosen', () => {
    const store = memoryStore()
    const first = editorIdentity('', store, () => 0)
    expect(first).toEqual({
      name: 'Anonymous Heron',
      color: colorForName('Anonymous Heron'),
      isGenerated: true,
    })
    expect(editorIdentity('', store, () => 0.99)).toEqual(first)
    expect(editorIdentity('?name=Ada', store).name).toBe('Ada')
    expect(loadIdentity(store)).toEqual({ name: 'Ada', color: colorForName('Ada') })
    expect(generatedName(() => 0.999999)).toMatch(/^Anonymous [A-Z][a-z]+$/)
  })

  it('[R58] a colour someone with a lower client id shows is replaced by the next one nobody shows', () => {
    const [red, pink, purple] = PALETTE
    expect(distinctColor(red, 5, [{ clientId: 9, color: red }])).toBe(red)
    expect(distinctColor(red, 5, [{ clientId: 1, color: red }])).toBe(pink)
    expect(
      distinctColor(red, 5, [
        { clientId: 1, color: red },
        { clientId: 2, color: pink },
      ]),
    ).toBe(purple)
    // Everyone settles: each person's colour depends only on those with lower ids.
    const ids = [4, 8, 15, 16, 23, 42]
    const shown = new Map<number, string>()
    for (const id of ids)
      shown.set(
        id,
        distinctColor(
          red,
          id,
          [...shown].map(([clientId, color]) => ({ clientId, color })),
        ),
      )
    expect(new Set(shown.values()).size).toBe(ids.length)
    // With every colour taken, one is shared rather than none shown.
    const everyone = PALETTE.map((color, i) => ({ clientId: i, color }))
    expect(distinctColor(red, 99, everyone)).toBe(red)
  })

  it('drops only the name from the search string', () => {
    expect(searchWithoutName('?name=Bob')).toBe('')
    expect(searchWithoutName('?name=Bob&x=1')).toBe('?x=1')
    expect(searchWithoutName('')).toBe('')
  })
})
