package port

// Node is a node of the Ruby syntax tree. span gives where it came from
// (byte offsets into the source, and its first line) so that what cannot
// be translated is printed as the original Ruby.
type Node interface{ sp() span }

type span struct{ start, end, line int }

func (s span) sp() span { return s }

type (
	// Str is a string with literal and interpolated segments.
	Str struct {
		span
		Segs []Seg
	}
	// Sym is a symbol (:name).
	Sym struct {
		span
		Name string
	}
	// Num is an integer or float literal.
	Num struct {
		span
		Text string
	}
	// Lit is nil, true, false or self.
	Lit struct {
		span
		Name string
	}
	// Words is %w[] (strings) or %i[] (symbols).
	Words struct {
		span
		Items []string
	}
	// Array is [a, b].
	Array struct {
		span
		Elems []Node
	}
	// Hash is {k => v, k: v}.
	Hash struct {
		span
		Keys, Vals []Node
	}
	// Var is a local variable or block parameter.
	Var struct {
		span
		Name string
	}
	// IVar is @name (template variables, definition params).
	IVar struct {
		span
		Name string
	}
	// Const is Foo, Foo::Bar or ::Foo.
	Const struct {
		span
		Names []string
	}
	// Call is a method call, with or without a receiver, arguments and block.
	Call struct {
		span
		Recv  Node // nil: a call on self (a resource, a DSL method)
		Name  string
		Args  []Node
		Block *Block
	}
	// Index is recv[args].
	Index struct {
		span
		Recv Node
		Args []Node
	}
	// Binary is a binary operation (&& || and or == + …).
	Binary struct {
		span
		Op   string
		L, R Node
	}
	// Unary is ! not - applied to X.
	Unary struct {
		span
		Op string
		X  Node
	}
	// Ternary is c ? a : b.
	Ternary struct {
		span
		C, A, B Node
	}
	// Assign is target op value (op is =, ||=, +=, <<= …).
	Assign struct {
		span
		Target Node
		Op     string
		Value  Node
	}
	// If is if/unless (Neg) with its else branch (an elsif is an If there).
	If struct {
		span
		Neg        bool
		Cond       Node
		Then, Else []Node
		Elsif      bool
		Modifier   bool
	}
	// Case is case/when.
	Case struct {
		span
		Subject Node // nil: case with no subject
		Whens   []When
		Else    []Node
		HasElse bool
	}
	// When is one when branch.
	When struct {
		Conds []Node
		Body  []Node
	}
	// While is while/until (Neg).
	While struct {
		span
		Neg  bool
		Cond Node
		Body []Node
	}
	// Block is do |params| … end or { |params| … }.
	Block struct {
		span
		Params []string
		Body   []Node
	}
	// Ctrl is return/next/break with an optional value.
	Ctrl struct {
		span
		Kw    string
		Value Node
	}
	// Range is a..b or a...b.
	Range struct {
		span
		A, B Node
		Excl bool
	}
	// Regexp is a regular expression literal (never translated).
	Regexp struct {
		span
		Text string
	}
	// Todo stands for Ruby the parser could not read.
	Todo struct {
		span
		Reason string
	}
)

// Seg is a segment of a string: Text, or the Expr of an interpolation.
type Seg struct {
	Text string
	Expr Node
}
