import { mergeAttributes, type Attributes, type Extensions } from '@tiptap/core'
import { Image } from '@tiptap/extension-image'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import { TableCell, TableHeader, TableKit } from '@tiptap/extension-table'
import { StarterKit } from '@tiptap/starter-kit'

/**
 * The document's schema (SPEC R59): the node and mark extensions the editor shows and the server's
 * exports render (R54), from this one list, so an export never drops what the editor writes.
 * Nothing here may touch the DOM or React: the server imports it ('@tandem/client/schema').
 */
export function documentExtensions(): Extensions {
  return [
    StarterKit.configure({
      // Collaboration brings a Yjs-aware undo; StarterKit's own history would undo others' edits.
      undoRedo: false,
      link: {
        // A click edits (the caret goes into the link); the link editor (Ctrl+K) opens it.
        openOnClick: false,
        autolink: true,
        defaultProtocol: 'https',
        // The Link extension's own scheme list (R54's list): typed, pasted or autolinked
        // `javascript:`, `data:` or `vbscript:` never becomes a link, and one a client wrote renders
        // with an empty href.
        isAllowedUri: (url, { defaultValidate }) => defaultValidate(url),
      },
    }),
    TableKit.configure({
      table: { resizable: false },
      tableCell: false,
      tableHeader: false,
    }),
    BoundedTableCell,
    BoundedTableHeader,
    TaskList,
    TaskItem.configure({ nested: true }),
    SafeImage.configure({ inline: false, allowBase64: false }),
  ]
}

/**
 * Largest row or column span a cell may have. prosemirror-tables and the HTML export loop over a
 * cell's span (`createColGroup`, `TableMap`): a span of 1e9 a stock client wrote would hang every
 * editor and the export. A cell with an attribute out of bounds fails the schema, so y-tiptap
 * leaves it out, as it does any element the schema refuses.
 */
const MAX_CELL_SPAN = 1000
const MAX_COLUMN_WIDTH_PX = 100_000

function validateSpan(value: unknown): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_CELL_SPAN))
    throw new RangeError(`cell span out of bounds: ${String(value)}`)
}

function validateColumnWidths(value: unknown): void {
  if (value === null) return
  const isWidth = (width: unknown) =>
    typeof width === 'number' && Number.isFinite(width) && width >= 0 && width <= MAX_COLUMN_WIDTH_PX
  if (!(Array.isArray(value) && value.length <= MAX_CELL_SPAN && value.every(isWidth)))
    throw new RangeError('column widths out of bounds')
}

/** The cell's attributes with bounded spans and widths (`validate` makes the schema check them). */
function boundedCellAttributes(parent: Attributes | undefined): Attributes {
  return {
    ...parent,
    colspan: { ...parent?.colspan, default: 1, validate: validateSpan },
    rowspan: { ...parent?.rowspan, default: 1, validate: validateSpan },
    colwidth: { ...parent?.colwidth, default: null, validate: validateColumnWidths },
  }
}

const BoundedTableCell = TableCell.extend({
  addAttributes() {
    return boundedCellAttributes(this.parent?.())
  },
})

const BoundedTableHeader = TableHeader.extend({
  addAttributes() {
    return boundedCellAttributes(this.parent?.())
  },
})

/**
 * The URL an image may load (R59): an absolute http(s) URL, else null. The editor's image dialog
 * accepts nothing else; a `src` a stock client wrote that is anything else renders without one,
 * in the editor and in the HTML export alike, so no image loads `javascript:` or `data:`.
 */
export function imageSource(src: unknown): string | null {
  if (typeof src !== 'string') return null
  try {
    const url = new URL(src.trim())
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

const SafeImage = Image.extend({
  renderHTML({ HTMLAttributes }) {
    const src = imageSource(HTMLAttributes.src)
    return ['img', mergeAttributes(this.options.HTMLAttributes, { ...HTMLAttributes, src: src ?? undefined })]
  },
})
