//! The pickle opcodes, named as CPython's `pickletools.opcodes` names them, so that the
//! interpreter and the writer read like the protocol's documentation
//! (`python3 -m pickletools -a FILE` prints a pickle in these names).
//!
//! All of CPython's opcodes are listed, including those the interpreter refuses, so that
//! [`ALL`] can be compared with `pickletools` as a whole.

/// Declares each opcode as a constant and lists them all in [`ALL`], from one list.
macro_rules! opcodes {
    ($($(#[$doc:meta])* $name:ident = $code:expr;)*) => {
        $($(#[$doc])* pub const $name: u8 = $code;)*
        /// Every opcode as `(pickletools name, byte)`, in `pickletools`' order.
        pub const ALL: &[(&str, u8)] = &[$((stringify!($name), $name)),*];
    };
}

opcodes! {
    // Integers.
    /// Decimal int on a text line (`01`/`00` are protocol 0's True/False).
    INT = b'I';
    /// Signed 4-byte little-endian int.
    BININT = b'J';
    /// Unsigned 1-byte int.
    BININT1 = b'K';
    /// Unsigned 2-byte little-endian int.
    BININT2 = b'M';
    /// Decimal long on a text line (protocol 0; not supported).
    LONG = b'L';
    /// Two's-complement little-endian long, 1-byte length.
    LONG1 = 0x8a;
    /// Two's-complement little-endian long, 4-byte length.
    LONG4 = 0x8b;

    // Byte strings.
    /// Quoted Python 2 str on a text line (protocol 0; not supported).
    STRING = b'S';
    /// Python 2 str, 4-byte length.
    BINSTRING = b'T';
    /// Python 2 str, 1-byte length.
    SHORT_BINSTRING = b'U';
    /// `bytes`, 4-byte length.
    BINBYTES = b'B';
    /// `bytes`, 1-byte length.
    SHORT_BINBYTES = b'C';
    /// `bytes`, 8-byte length.
    BINBYTES8 = 0x8e;
    /// `bytearray`, 8-byte length.
    BYTEARRAY8 = 0x96;
    /// An out-of-band buffer (protocol 5 `buffer_callback`).
    NEXT_BUFFER = 0x97;
    /// Marks the out-of-band buffer on the stack read-only.
    READONLY_BUFFER = 0x98;

    // Constants.
    /// `None`.
    NONE = b'N';
    /// `True`.
    NEWTRUE = 0x88;
    /// `False`.
    NEWFALSE = 0x89;

    // Unicode strings.
    /// Raw-unicode-escaped str on a text line (protocol 0; not supported).
    UNICODE = b'V';
    /// UTF-8 str, 1-byte length.
    SHORT_BINUNICODE = 0x8c;
    /// UTF-8 str, 4-byte length.
    BINUNICODE = b'X';
    /// UTF-8 str, 8-byte length.
    BINUNICODE8 = 0x8d;

    // Floats.
    /// `repr(float)` on a text line.
    FLOAT = b'F';
    /// Big-endian IEEE double.
    BINFLOAT = b'G';

    // Lists.
    /// `[]`.
    EMPTY_LIST = b']';
    /// Appends the top of the stack to the list below it.
    APPEND = b'a';
    /// Appends everything above the mark to the list below it.
    APPENDS = b'e';
    /// A list of everything above the mark.
    LIST = b'l';

    // Tuples.
    /// `()`.
    EMPTY_TUPLE = b')';
    /// A tuple of everything above the mark.
    TUPLE = b't';
    /// A tuple of the top item.
    TUPLE1 = 0x85;
    /// A tuple of the top two items.
    TUPLE2 = 0x86;
    /// A tuple of the top three items.
    TUPLE3 = 0x87;

    // Dicts.
    /// `{}`.
    EMPTY_DICT = b'}';
    /// A dict of the key/value pairs above the mark.
    DICT = b'd';
    /// Sets one key to a value in the dict below them.
    SETITEM = b's';
    /// Sets the key/value pairs above the mark in the dict below it.
    SETITEMS = b'u';

    // Sets.
    /// `set()`.
    EMPTY_SET = 0x8f;
    /// Adds everything above the mark to the set below it.
    ADDITEMS = 0x90;
    /// A frozenset of everything above the mark.
    FROZENSET = 0x91;

    // Stack manipulation.
    /// Discards the top of the stack.
    POP = b'0';
    /// Pushes the top of the stack again.
    DUP = b'2';
    /// Remembers where a variable-length sequence of items starts.
    MARK = b'(';
    /// Discards everything above the mark, and the mark.
    POP_MARK = b'1';

    // Memo.
    /// Pushes a memo entry; decimal key on a text line.
    GET = b'g';
    /// Pushes a memo entry; 1-byte key.
    BINGET = b'h';
    /// Pushes a memo entry; 4-byte key.
    LONG_BINGET = b'j';
    /// Stores the top of the stack in the memo; decimal key on a text line.
    PUT = b'p';
    /// Stores the top of the stack in the memo; 1-byte key.
    BINPUT = b'q';
    /// Stores the top of the stack in the memo; 4-byte key.
    LONG_BINPUT = b'r';
    /// Stores the top of the stack under the next free key, `len(memo)`.
    MEMOIZE = 0x94;

    // The extension registry (`copyreg`).
    /// An extension code, 1 byte.
    EXT1 = 0x82;
    /// An extension code, 2 bytes.
    EXT2 = 0x83;
    /// An extension code, 4 bytes.
    EXT4 = 0x84;

    // Classes and calls.
    /// `module.name` from two text lines.
    GLOBAL = b'c';
    /// `module.name` from the two strings on the stack.
    STACK_GLOBAL = 0x93;
    /// `func(*args)`.
    REDUCE = b'R';
    /// Passes state to the object's `__setstate__` (or its `__dict__`).
    BUILD = b'b';
    /// Builds an instance of a class named on text lines (protocol 0).
    INST = b'i';
    /// Builds an instance of the class above the mark.
    OBJ = b'o';
    /// `cls.__new__(cls, *args)`.
    NEWOBJ = 0x81;
    /// `cls.__new__(cls, *args, **kwargs)`.
    NEWOBJ_EX = 0x92;

    // Machine control.
    /// The protocol version, first in every pickle of protocol 2 or later.
    PROTO = 0x80;
    /// Ends the pickle; the top of the stack is its value.
    STOP = b'.';
    /// The length of the next frame: only a read-ahead hint.
    FRAME = 0x95;

    // Persistent ids.
    /// A persistent id on a text line.
    PERSID = b'P';
    /// A persistent id from the stack.
    BINPERSID = b'Q';
}
