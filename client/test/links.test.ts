import { describe, expect, it } from 'vitest'
import { linkSearch } from '../src/editor/linkSearch.ts'
import {
  MAX_REMEMBERED_DOCS,
  MAX_TITLE_LENGTH,
  rememberDoc,
  rememberedDoc,
  rememberedDocs,
  tokenFor,
} from '../src/links.ts'
import { memoryStore } from './memoryStore.ts'

describe('remembered documents', () => {
  it('stores tokens per document and lists the most recently opened first', () => {
    const store = memoryStore()
    rememberDoc(store, 'first', { editToken: 'E1', viewToken: 'V1' }, 1_000)
    rememberDoc(store, 'second', { viewToken: 'V2' }, 2_000)
    expect(tokenFor(store, 'first', 'edit')).toBe('E1')
    expect(tokenFor(store, 'first', 'view')).toBe('V1')
    expect(tokenFor(store, 'second', 'edit')).toBeNull()
    expect(tokenFor(store, 'unknown', 'view')).toBeNull()
    expect(rememberedDocs(store).map((doc) => doc.docId)).toEqual(['second', 'first'])

    rememberDoc(store, 'first', { title: 'Plans' }, 3_000)
    expect(rememberedDocs(store)[0]).toEqual({
      docId: 'first',
      editToken: 'E1',
      viewToken: 'V1',
      title: 'Plans',
      openedAtMs: 3_000,
    })
  })

  it('[R19] retires the stored token of the other kind when a reset brings a new one', () => {
    const store = memoryStore()
    rememberDoc(store, 'doc', { editToken: 'E1', viewToken: 'V1' })
    rememberDoc(store, 'doc', { editToken: 'E2' })
    expect(rememberedDoc(store, 'doc')).toMatchObject({ editToken: 'E2', viewToken: null })
    rememberDoc(store, 'doc', { viewToken: 'V2' })
    expect(rememberedDoc(store, 'doc')).toMatchObject({ editToken: 'E2', viewToken: 'V2' })
    rememberDoc(store, 'doc', { editToken: 'E3', viewToken: 'V3' })
    expect(rememberedDoc(store, 'doc')).toMatchObject({ editToken: 'E3', viewToken: 'V3' })
    // The same token again is no news.
    rememberDoc(store, 'doc', { editToken: 'E3' })
    expect(rememberedDoc(store, 'doc')).toMatchObject({ editToken: 'E3', viewToken: 'V3' })
  })

  it('normalizes titles and keeps them short', () => {
    const store = memoryStore()
    rememberDoc(store, 'doc', { editToken: 'E', title: '  Shopping \n list ' })
    expect(rememberedDoc(store, 'doc')?.title).toBe('Shopping list')
    rememberDoc(store, 'doc', { title: 'x'.repeat(200) })
    expect(rememberedDoc(store, 'doc')?.title).toHaveLength(MAX_TITLE_LENGTH)
    rememberDoc(store, 'doc', { title: '   ' })
    expect(rememberedDoc(store, 'doc')?.title).toBeNull()
  })

  it('keeps only the newest documents', () => {
    const store = memoryStore()
    for (let i = 0; i <= MAX_REMEMBERED_DOCS; i += 1) rememberDoc(store, `doc${i}`, { editToken: 'E' }, i)
    const docs = rememberedDocs(store)
    expect(docs).toHaveLength(MAX_REMEMBERED_DOCS)
    expect(docs[0]?.docId).toBe(`doc${MAX_REMEMBERED_DOCS}`)
    expect(docs.some((doc) => doc.docId === 'doc0')).toBe(false)
  })

  it('treats corrupt storage as empty and drops malformed entries', () => {
    expect(rememberedDocs(memoryStore({ 'tandem.docs': '{not json' }))).toEqual([])
    expect(rememberedDocs(memoryStore({ 'tandem.docs': '{"docId":"a"}' }))).toEqual([])
    const store = memoryStore({
      'tandem.docs': JSON.stringify([
        { docId: 'bad id', editToken: 'E' },
        { docId: 'noTokens', editToken: '', viewToken: 7 },
        { docId: 'good', viewToken: 'V', title: 42, openedAtMs: 'yesterday' },
      ]),
    })
    expect(rememberedDocs(store)).toEqual([
      { docId: 'good', editToken: null, viewToken: 'V', title: null, openedAtMs: 0 },
    ])
  })
})

describe('linkSearch', () => {
  it('keeps the token in the address bar and drops the name', () => {
    expect(linkSearch('?k=E1&name=Bob', 'E1')).toBe('?k=E1')
    expect(linkSearch('', 'E1')).toBe('?k=E1')
    expect(linkSearch('?k=old&x=1', 'new')).toBe('?k=new&x=1')
  })

  it('[R26] keeps a forced transport, so a reload stays on it', () => {
    expect(linkSearch('?k=E1&transport=longpoll&name=Bob', 'E1')).toBe('?k=E1&transport=longpoll')
  })
})
