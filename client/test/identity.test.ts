import { describe, expect, it } from 'vitest'
import {
  colorForName,
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

  it('drops only the name from the search string', () => {
    expect(searchWithoutName('?name=Bob')).toBe('')
    expect(searchWithoutName('?name=Bob&x=1')).toBe('?x=1')
    expect(searchWithoutName('')).toBe('')
  })
})
