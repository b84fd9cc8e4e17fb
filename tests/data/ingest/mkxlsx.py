#!/usr/bin/env python3
"""Writes small XLSX workbooks for the ingest tests (a workbook is a zip of
XML parts; no library needed).
  mkxlsx.py OUT.xlsx          sheets "Notes" and "People": a title row, a
                              header on row 3, strings, numbers, a date, a bool
  mkxlsx.py --bomb OUT.xlsx   a zip bomb posing as a workbook (a sheet part
                              that inflates 1000:1)"""
import sys, zipfile

CT = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>'''
RELS = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>'''
WB = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Notes" sheetId="1" r:id="rId1"/><sheet name="People" sheetId="2" r:id="rId2"/></sheets>
</workbook>'''
WBRELS = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>'''
STYLES = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>
</styleSheet>'''
SST_WORDS = ["Staff list 2024", "Name", "Age", "Started", "Active", "Ann", "Bob", "Cem", "see People"]
SST = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (len(SST_WORDS), len(SST_WORDS))
       + ''.join('<si><t>%s</t></si>' % w for w in SST_WORDS) + '</sst>')
def sheet(rows):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + ''.join(rows) + '</sheetData></worksheet>')
S = lambda ref, i: '<c r="%s" t="s"><v>%d</v></c>' % (ref, i)
N = lambda ref, v, s=0: '<c r="%s"%s><v>%s</v></c>' % (ref, ' s="%d"' % s if s else '', v)
B = lambda ref, v: '<c r="%s" t="b"><v>%d</v></c>' % (ref, v)
NOTES = sheet(['<row r="1">' + S("A1", 8) + '</row>'])
PEOPLE = sheet([
    '<row r="1">' + S("A1", 0) + '</row>',
    '<row r="3">' + S("A3", 1) + S("B3", 2) + S("C3", 3) + S("D3", 4) + '</row>',
    '<row r="4">' + S("A4", 5) + N("B4", 41) + N("C4", 43905, 1) + B("D4", 1) + '</row>',
    '<row r="5">' + S("A5", 6) + N("B5", 35) + N("C5", 44000, 1) + B("D5", 0) + '</row>',
    '<row r="6">' + S("A6", 7) + N("B6", 29) + N("C6", 44100, 1) + B("D6", 1) + '</row>',
])

def write(path, sheet1, sheet2):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', CT)
        z.writestr('_rels/.rels', RELS)
        z.writestr('xl/workbook.xml', WB)
        z.writestr('xl/_rels/workbook.xml.rels', WBRELS)
        z.writestr('xl/styles.xml', STYLES)
        z.writestr('xl/sharedStrings.xml', SST)
        z.writestr('xl/worksheets/sheet1.xml', sheet1)
        z.writestr('xl/worksheets/sheet2.xml', sheet2)

if __name__ == '__main__':
    if sys.argv[1] == '--bomb':
        # 64 MB of blanks inside the first sheet's row: inflates ~1000:1
        big = sheet(['<row r="1"><c r="A1" t="inlineStr"><is><t>' + ' ' * (64 << 20) + '</t></is></c></row>'])
        write(sys.argv[2], big, PEOPLE)
    else:
        write(sys.argv[1], NOTES, PEOPLE)
