import type { ReactNode } from 'react'

/**
 * The toolbar's icons: inline SVG drawn with `currentColor`, so they follow the theme (dark mode
 * included) and cost no font download. Each is decorative: the button's aria-label names it.
 */

function Icon({ children }: { readonly children: ReactNode }) {
  return (
    <svg
      className="format-icon"
      viewBox="0 0 20 20"
      width="18"
      height="18"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {children}
    </svg>
  )
}

export const BulletListIcon = () => (
  <Icon>
    <circle cx="4" cy="5" r="1" fill="currentColor" />
    <circle cx="4" cy="10" r="1" fill="currentColor" />
    <circle cx="4" cy="15" r="1" fill="currentColor" />
    <path d="M8 5h9M8 10h9M8 15h9" />
  </Icon>
)

export const OrderedListIcon = () => (
  <Icon>
    <path d="M3 3.5h1.2v3.5M3 7h2.4" strokeWidth="1.2" />
    <path d="M3 12.2c.3-.8 2.3-.9 2.3.3 0 1-2.3 1.6-2.3 2.8h2.4" strokeWidth="1.2" />
    <path d="M8.5 5h8.5M8.5 10h8.5M8.5 15h8.5" />
  </Icon>
)

export const TaskListIcon = () => (
  <Icon>
    <rect x="2.5" y="2.5" width="5" height="5" rx="1" />
    <path d="M3.8 5.1l1.1 1.1 2-2.2" strokeWidth="1.3" />
    <rect x="2.5" y="12.5" width="5" height="5" rx="1" />
    <path d="M10 5h7M10 15h7" />
  </Icon>
)

export const QuoteIcon = () => (
  <Icon>
    <path d="M4 4v12" strokeWidth="2" />
    <path d="M8 6h9M8 10h9M8 14h6" />
  </Icon>
)

export const CodeBlockIcon = () => (
  <Icon>
    <rect x="2.5" y="3" width="15" height="14" rx="2" />
    <path d="M8 8l-2 2 2 2M12 8l2 2-2 2" />
  </Icon>
)

export const LinkIcon = () => (
  <Icon>
    <path d="M8.5 11.5a3 3 0 0 0 4.2 0l2.6-2.6a3 3 0 0 0-4.2-4.2l-1 1" />
    <path d="M11.5 8.5a3 3 0 0 0-4.2 0l-2.6 2.6a3 3 0 0 0 4.2 4.2l1-1" />
  </Icon>
)

export const ImageIcon = () => (
  <Icon>
    <rect x="2.5" y="3.5" width="15" height="13" rx="2" />
    <circle cx="7" cy="8" r="1.5" />
    <path d="M3 15l4.5-4.5 3 3 2-2 4.5 4.5" />
  </Icon>
)

export const TableIcon = () => (
  <Icon>
    <rect x="2.5" y="3.5" width="15" height="13" rx="1.5" />
    <path d="M2.5 8h15M2.5 12.3h15M7.5 3.5v13M12.5 3.5v13" />
  </Icon>
)

export const UndoIcon = () => (
  <Icon>
    <path d="M7 5L3.5 8.5 7 12" />
    <path d="M3.5 8.5H12a4.5 4.5 0 0 1 0 9H9" />
  </Icon>
)

export const RedoIcon = () => (
  <Icon>
    <path d="M13 5l3.5 3.5L13 12" />
    <path d="M16.5 8.5H8a4.5 4.5 0 0 0 0 9h3" />
  </Icon>
)

export const ClearFormattingIcon = () => (
  <Icon>
    <path d="M5 4h10M10 4l-3 12" />
    <path d="M12.5 12.5l4 4M16.5 12.5l-4 4" />
  </Icon>
)

export const KeyboardIcon = () => (
  <Icon>
    <rect x="1.5" y="5" width="17" height="10" rx="2" />
    <path d="M5 8.5h.01M8 8.5h.01M11 8.5h.01M14 8.5h.01M6 12h8" strokeWidth="1.8" />
  </Icon>
)

const HEADING_DIGITS: Readonly<Record<1 | 2 | 3, string>> = {
  1: 'M14.2 11.4l1.8-1.4v6',
  2: 'M13.6 11.2c.3-.9 1.3-1.3 2.1-1.1.9.2 1.3 1 1 1.8-.3.9-3.1 2.9-3.1 4.1h3.3',
  3: 'M13.6 10.6c.6-.6 2.9-.7 2.9.8 0 .9-.8 1.3-1.6 1.3.9 0 1.8.4 1.8 1.4 0 1.6-2.6 1.7-3.2.9',
}

/** "H1", "H2", "H3" drawn, not written: a button's visible text must be part of its name. */
export const HeadingIcon = ({ level }: { readonly level: 1 | 2 | 3 }) => (
  <Icon>
    <path d="M2.5 4.5v11M10 4.5v11M2.5 10H10" strokeWidth="1.9" />
    <path d={HEADING_DIGITS[level]} strokeWidth="1.5" />
  </Icon>
)
