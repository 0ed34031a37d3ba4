"""The catalogue of what the readers, the upload checks, the sandbox, the analysis and the account rules say, in
English and Russian (worded on pages by :mod:`cardioscreen.web.messages`)."""

from __future__ import annotations

_MESSAGES_EN: dict[str, str] = {
    # entries are matched in this order: these before "{file} is empty", which their wording would match too
    "conclusion_empty": "the conclusion is empty",
    # the upload's files (web.storage)
    "no_file": "no file was uploaded",
    "upload_empty": "the file '{name}' is empty",
    "not_one_record": "upload one ECG file, or a WFDB record as its .hea file with its .dat/.mat file (got {files})",
    "not_in_record": "not part of the WFDB record {header}: {files}; upload only the header and the signal files it "
                     "names",
    # reading in the sandbox (web.intake, web.sandbox); {reason} is itself a message
    "not_read": "{file} could not be read as an ECG: {reason}",
    "time_limit": "stopped after {seconds} s (the time limit)",
    "memory_limit": "ran out of memory (limit {mib} MiB)",
    "worker_signal": "the worker died (killed by signal {signal})",
    "worker_exit": "the worker died (exit status {code})",
    "stopping": "the server is stopping",
    "format_error": "ECGFormatError: {reason}",
    "error": "CardioScreenError: {reason}",
    # any reader (io.registry, io.read_ecg, io.common)
    "unknown_format": "{file}: unknown ECG format (supported: {formats})",
    "file_empty": "{file} is empty",
    "too_large_as": "{file}: too large to read as {fmt}",
    "cannot_read_as": "{file}: cannot be read as {fmt} ({error})",
    "cannot_read": "{file}: cannot read {what}: {detail}",
    "no_samples": "{where}: no samples ({leads} leads x {samples} samples)",
    "too_many_channels": "{where}: {channels} channels; at most {limit} leads are accepted",
    "samples_per_lead": "{where}: {samples} samples per lead; the limit is {limit}",
    "samples_per_record": "{where}: {leads} x {samples} samples; the limit is {limit}",
    "inflate_limit": "{where}: compressed data inflate to more than {limit} bytes",
    "damaged_compressed": "{where}: damaged compressed data ({error})",
    # WFDB
    "wfdb_no_header": "{file}: WFDB signal file without its header {header}",
    "wfdb_missing": "{header}: signal file {file} is missing",
    "wfdb_truncated": "{file} is truncated: {size} bytes, the header promises {promised}",
    "wfdb_short": "{header}: signal file does not hold {samples} samples per channel",
    "wfdb_rate": "{header}: sampling rate {fs} Hz is outside {low}-{high} Hz",
    "wfdb_no_signals": "{header}: header declares no signals",
    "wfdb_no_voltage": "{header}: no channel is in a voltage unit (units: {units})",
    # NumPy and MATLAB
    "array_too_large": "{where}: array of shape {shape} ({dtype}) is larger than any accepted record ({samples} "
                       "samples, {size} bytes)",
    "arrays_inflate": "{where}: its arrays inflate to {size} bytes; the limit is {limit}",
    "array_truncated": "{where}: truncated: {present} of {size} data bytes present",
    "array_not_numeric": "{where}: array dtype {dtype} is not numeric (pickled objects are refused)",
    "no_signal_array": "{file}: no 'signal' array (arrays: {arrays})",
    "mat_variable_large": "{file}: variable '{name}' of shape {shape} is larger than any record",
    "mat_variables_large": "{file}: its variables hold more than {limit} bytes",
    "mat_hdf5": "{file}: MATLAB 7.3 (HDF5) files are not supported; save it with -v7",
    # XML formats (MUSE, HL7 aECG, Sierra) and SCP-ECG
    "xml_too_large": "{file}: {what} file is over {mb} MB",
    "xml_entities": "{file}: {what} refused: the XML declares entities ({error})",
    "xml_malformed": "{file}: not a well-formed {what} file: {error}",
    "scp_truncated": "{where}: record declares {declared} bytes, file has {size} (truncated?)",
    "scp_crc": "{where}: record CRC mismatch, the file is damaged",
    "scp_damaged": "{file}: damaged SCP-ECG record: {error}",
    "scp_short": "{where}: {size} bytes is too short for an SCP-ECG record",
    # CSV
    "csv_header": "{file}: the first row must name the leads (got {columns})",
    "csv_no_time": "{file}: no time column; give the sampling rate (fs option, --fs on the CLI)",
    # the record (cardioscreen.record), when read and when analysed
    "too_short": "record is {seconds} s long; at least {minimum} s are needed",
    "record_rate": "sampling rate {fs} Hz is outside {low}-{high} Hz",
    "not_finite": "signal has {count} NaN/inf samples in leads {leads}",
    "lacks_leads": "record lacks leads {missing} (has {has}); a 12-lead analysis needs at least {needed}",
    # (the analysis' refusals and the quality check's reasons are the report's strings: cardioscreen.report.refusal)
    # accounts (web.crud, web.security) and conclusions (web.crud)
    "username_length": "user name must be 1 to {limit} characters",
    "username_invisible": "user name holds invisible or control characters",
    "username_scripts": "user name mixes letters of several scripts ({scripts})",
    "username_taken": "user name '{name}' is already taken",
    "password_length": "password must be at least {limit} characters",
    "password_distinct": "password must have at least {limit} different characters",
    "password_username": "password must not contain the user name",
    "password_common": "password is one of the most common passwords; choose another",
    "already_concluded": "study {id} already has a conclusion",
    "still_analysing": "study {id} is still being analysed; conclude it once its result is shown",
    "unknown_role": "unknown role {role}; one of {roles}",
    "unknown_language": "unknown language {language}; one of {languages}",
}

_MESSAGES_RU: dict[str, str] = {
    "conclusion_empty": "заключение пустое",
    "no_file": "файл не был загружен",
    "upload_empty": "файл «{name}» пуст",
    "not_one_record": "загрузите один файл ЭКГ или запись WFDB — её файл .hea вместе с файлом .dat/.mat (получено: "
                      "{files})",
    "not_in_record": "не относятся к записи WFDB {header}: {files}; загрузите только заголовок и названные в нём "
                     "файлы сигнала",
    "not_read": "{file} не удалось прочитать как ЭКГ: {reason}",
    "time_limit": "остановлено через {seconds} с (ограничение времени)",
    "memory_limit": "не хватило памяти (ограничение {mib} МиБ)",
    "worker_signal": "рабочий процесс аварийно завершён (сигнал {signal})",
    "worker_exit": "рабочий процесс аварийно завершён (код выхода {code})",
    "stopping": "сервер останавливается",
    "format_error": "{reason}",
    "error": "{reason}",
    "unknown_format": "{file}: формат ЭКГ не распознан (поддерживаются: {formats})",
    "file_empty": "{file}: файл пуст",
    "too_large_as": "{file}: слишком большой для чтения как {fmt}",
    "cannot_read_as": "{file}: файл повреждён и не читается как {fmt}",
    "cannot_read": "{file}: файл повреждён, прочитать его не удалось",
    "no_samples": "{where}: в записи нет отсчётов ({leads} отв. × {samples} отсчётов)",
    "too_many_channels": "{where}: каналов: {channels}; принимается не больше {limit} отведений",
    "samples_per_lead": "{where}: {samples} отсчётов на отведение; допускается не больше {limit}",
    "samples_per_record": "{where}: {leads} × {samples} отсчётов; допускается не больше {limit}",
    "inflate_limit": "{where}: сжатые данные распаковываются больше чем в {limit} байт",
    "damaged_compressed": "{where}: сжатые данные повреждены",
    "wfdb_no_header": "{file}: файл сигнала WFDB без своего заголовка {header}",
    "wfdb_missing": "{header}: нет файла сигнала {file}",
    "wfdb_truncated": "файл {file} обрезан: {size} байт, а по заголовку должно быть {promised}",
    "wfdb_short": "{header}: в файле сигнала нет {samples} отсчётов на канал",
    "wfdb_rate": "{header}: частота дискретизации {fs} Гц вне диапазона {low}–{high} Гц",
    "wfdb_no_signals": "{header}: в заголовке нет ни одного сигнала",
    "wfdb_no_voltage": "{header}: ни один канал не записан в единицах напряжения (единицы: {units})",
    "array_too_large": "{where}: массив формы {shape} ({dtype}) больше любой допустимой записи ({samples} отсчётов, "
                       "{size} байт)",
    "arrays_inflate": "{where}: его массивы распаковываются в {size} байт; допускается не больше {limit}",
    "array_truncated": "{where}: файл обрезан: есть {present} из {size} байт данных",
    "array_not_numeric": "{where}: массив типа {dtype} не числовой (сериализованные объекты не принимаются)",
    "no_signal_array": "{file}: нет массива «signal» (массивы: {arrays})",
    "mat_variable_large": "{file}: переменная «{name}» формы {shape} больше любой записи",
    "mat_variables_large": "{file}: его переменные занимают больше {limit} байт",
    "mat_hdf5": "{file}: файлы MATLAB 7.3 (HDF5) не поддерживаются; сохраните его с параметром -v7",
    "xml_too_large": "{file}: файл {what} больше {mb} МБ",
    "xml_entities": "{file}: файл {what} отклонён: в XML объявлены сущности",
    "xml_malformed": "{file}: файл {what} повреждён (ошибка в XML)",
    "scp_truncated": "{where}: запись объявляет {declared} байт, а в файле {size} (файл обрезан?)",
    "scp_crc": "{where}: контрольная сумма записи не совпадает, файл повреждён",
    "scp_damaged": "{file}: запись SCP-ECG повреждена",
    "scp_short": "{where}: {size} байт — слишком мало для записи SCP-ECG",
    "csv_header": "{file}: в первой строке должны быть названия отведений (получено: {columns})",
    "csv_no_time": "{file}: нет столбца времени; укажите частоту дискретизации",
    "too_short": "длительность записи {seconds} с; нужно не меньше {minimum} с",
    "record_rate": "частота дискретизации {fs} Гц вне диапазона {low}–{high} Гц",
    "not_finite": "в сигнале {count} отсчётов NaN/inf в отведениях {leads}",
    "lacks_leads": "в записи нет отведений {missing} (есть {has}); для анализа в 12 отведениях нужны как минимум "
                   "{needed}",
    "username_length": "имя пользователя должно быть длиной от 1 до {limit} символов",
    "username_invisible": "имя пользователя содержит невидимые или управляющие символы",
    "username_scripts": "в имени пользователя смешаны буквы разных алфавитов",
    "username_taken": "имя пользователя «{name}» уже занято",
    "password_length": "пароль должен быть не короче {limit} символов",
    "password_distinct": "в пароле должно быть не меньше {limit} разных символов",
    "password_username": "пароль не должен содержать имя пользователя",
    "password_common": "этот пароль — один из самых распространённых; выберите другой",
    "already_concluded": "у исследования {id} уже есть заключение",
    "still_analysing": "исследование {id} ещё анализируется; напишите заключение, когда появится результат",
    "unknown_role": "неизвестная роль {role}; допустимы: {roles}",
    "unknown_language": "неизвестный язык {language}; допустимы: {languages}",
}

MESSAGES: dict[str, dict[str, str]] = {"en": _MESSAGES_EN, "ru": _MESSAGES_RU}
"""What the readers, the upload checks, the sandbox, the analysis and the account rules say, by language: the English
entries are the messages as those modules word them (their patterns, see :mod:`cardioscreen.web.messages`), the
others the same with the values a page can show (a value left out is one only English can word: a library's error)."""
