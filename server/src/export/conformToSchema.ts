import { Fragment, Mark, type Node as ProseMirrorNode, type NodeType } from '@tiptap/pm/model'

/**
 * The document as the schema allows it (R54): every child where its parent's content expression
 * admits it, every mark where its parent allows it, and no mark beside one that excludes it (code
 * excludes every other mark). What does not fit is left out of the export.
 *
 * y-tiptap checks each element's content (`schema.node`), but builds the root unchecked and never
 * applies mark exclusion, so a stock client can put a list item or a hard break at the top level,
 * or a link mark on code, which the editor never writes. Tiptap's Markdown serializer assumes what
 * the editor writes: a link around code text puts the code span inside the link text.
 */
export function conformToSchema(root: ProseMirrorNode): ProseMirrorNode {
  return root.type.create(root.attrs, conformContent(root), root.marks)
}

function conformContent(parent: ProseMirrorNode): Fragment {
  const children: ProseMirrorNode[] = []
  let match = parent.type.contentMatch
  parent.forEach((child) => {
    const fitted = conformNode(parent.type, child)
    const next = match.matchType(fitted.type)
    if (!next) return
    match = next
    children.push(fitted)
  })
  // Fragment.from joins neighbouring text nodes that now carry the same marks.
  return Fragment.from(children)
}

function conformNode(parentType: NodeType, node: ProseMirrorNode): ProseMirrorNode {
  const marks = conformMarks(parentType, node.marks)
  if (node.isText) return node.mark(marks)
  return node.type.create(node.attrs, conformContent(node), marks)
}

/** `addToSet` drops a mark that another in the set excludes, as the editor does when applying it. */
function conformMarks(parentType: NodeType, marks: readonly Mark[]): readonly Mark[] {
  let set: readonly Mark[] = Mark.none
  for (const mark of marks) if (parentType.allowsMarkType(mark.type)) set = mark.addToSet(set)
  return set
}
