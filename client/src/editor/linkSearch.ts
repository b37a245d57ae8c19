import { TOKEN_PARAM } from '../route.ts'
import { searchWithoutName } from './identity.ts'

/**
 * The address bar's search string for a document page: `?k=<token>` and nothing personal, so a
 * copied address bar does not hand your name to others (`?name=` only skips the prompt once).
 */
export function linkSearch(search: string, token: string): string {
  const params = new URLSearchParams(searchWithoutName(search))
  params.set(TOKEN_PARAM, token)
  return `?${params.toString()}`
}
